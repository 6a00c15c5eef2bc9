import type { KeyObject } from 'node:crypto';
import type { Memberlist } from '../gossip/memberlist.ts';
import type { LoadOptions, PolicySet } from '../policy/load.ts';
import { loadPersistedSnapshot, saveSnapshot } from '../policy/snapshot/persist.ts';
import type { Snapshot } from '../policy/snapshot/snapshot.ts';
import { verifySnapshot } from '../policy/snapshot/verify.ts';
import type { Logger } from './log.ts';
import { decodeMemberMeta } from './member-meta.ts';

export const SNAPSHOT_REQUEST = 'snapshot';
/** Length of the content-hash prefix members advertise. */
export const ADVERTISED_HASH_LENGTH = 16;

export interface SyncState {
  version: number;
  hash: string;
  rejected: { version: number; error: string } | undefined;
}

export type ApplyResult = { ok: true } | { ok: false; error: string };

export interface SnapshotSyncOptions {
  memberlist: Memberlist;
  publicKeys: readonly KeyObject[];
  /** Where the last good snapshot is kept, so a restart needs no peer. */
  stateDir?: string | undefined;
  loadOptions?: LoadOptions;
  /** Puts a verified snapshot into service; a refusal keeps the last good one serving. */
  apply(snapshot: Snapshot, policy: PolicySet): Promise<ApplyResult>;
  /** Called when the advertised state changes, to put it in this member's metadata. */
  onStateChange(state: SyncState): void;
  log: Logger;
  /** How often advertised versions are re-read, besides on membership events. */
  recheckMs?: number;
}

interface Current {
  version: number;
  hash: string;
  bytes: Uint8Array;
}

interface Candidate {
  member: string;
  addr: string;
  version: number;
  hash: string;
}

/**
 * Keeps this member on the newest genuine snapshot the mesh knows. Members advertise the version and hash they run
 * in their gossip metadata; a member that sees a better one fetches it over a stream from a random member that has
 * it (so a new version spreads from peer to peer, not all from the control plane), verifies the signature, applies
 * it, persists it and advertises it in turn. "Better" is a higher version, or the same version with a higher hash,
 * so replicas that built different content at one version still settle on one snapshot without a leader.
 */
export class SnapshotSync {
  private current: Current | undefined;
  private rejected: SyncState['rejected'];
  /** Member, version and hash of snapshots already refused, so a bad one is not fetched in a loop. */
  private readonly refused = new Set<string>();
  private fetching = false;
  /** Members a fetch from failed recently (unreachable, not yet known dead); skipped for a few seconds. */
  private readonly unreachable = new Map<string, number>();
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly options: SnapshotSyncOptions;
  fetches = 0;
  rejections = 0;

  constructor(options: SnapshotSyncOptions) {
    this.options = options;
    options.memberlist.handle(SNAPSHOT_REQUEST, () => {
      if (!this.current) throw new Error('no snapshot yet');
      return this.current.bytes;
    });
  }

  get state(): SyncState {
    return { version: this.current?.version ?? 0, hash: this.current?.hash.slice(0, ADVERTISED_HASH_LENGTH) ?? '', rejected: this.rejected };
  }

  get hasSnapshot(): boolean {
    return this.current !== undefined;
  }

  /** Bytes of the snapshot in force, for serving and inspection. */
  get currentBytes(): Uint8Array | undefined {
    return this.current?.bytes;
  }

  /** Applies the persisted snapshot, if any and genuine; true when one was applied. */
  async restore(): Promise<boolean> {
    const dir = this.options.stateDir;
    if (!dir) return false;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await loadPersistedSnapshot(dir);
    } catch (error) {
      this.options.log.warn('cannot read the persisted snapshot', { dir, error: String(error) });
      return false;
    }
    if (!bytes) return false;
    const ok = await this.install(bytes, 'disk', false);
    if (ok) this.options.log.info('restored the last good snapshot from disk', { version: this.current?.version, dir });
    return ok;
  }

  /** Watches advertised versions and fetches better snapshots as they appear. */
  start(): void {
    this.unsubscribe = this.options.memberlist.onEvent((event) => {
      if (event.member.name !== this.options.memberlist.name) this.schedule();
    });
    const tick = (): void => {
      this.schedule();
      this.timer = setTimeout(tick, this.options.recheckMs ?? 2_000);
      this.timer.unref();
    };
    tick();
  }

  /**
   * Resolves once this member runs at least the best snapshot advertised by alive members (true), or after
   * `timeoutMs` (false). A control-plane replica waits on it before its first build, so a restarted replica with an
   * empty disk takes over the mesh's numbering instead of starting again from 1.
   */
  async catchUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const candidate = this.bestCandidate(new Set());
      if (!candidate) return true;
      if (Date.now() >= deadline) return false;
      this.schedule();
      await new Promise((resolve) => setTimeout(resolve, 50).unref());
    }
  }

  /** Installs a snapshot this member made (the control plane's own build); false if it does not verify. */
  publish(bytes: Uint8Array): Promise<boolean> {
    return this.install(bytes, 'local build', true);
  }

  close(): void {
    clearTimeout(this.timer);
    this.unsubscribe?.();
  }

  private schedule(): void {
    if (this.fetching) {
      this.again = true;
      return;
    }
    const candidate = this.bestCandidate(this.recentlyUnreachable());
    if (!candidate) return;
    this.fetching = true;
    void this.fetch(candidate).finally(() => {
      this.fetching = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    });
  }

  /** A random member among those advertising the best snapshot better than ours and not refused from them. */
  private recentlyUnreachable(): Set<string> {
    const now = Date.now();
    for (const [member, until] of this.unreachable) if (until <= now) this.unreachable.delete(member);
    return new Set(this.unreachable.keys());
  }

  private bestCandidate(skip: ReadonlySet<string>): Candidate | undefined {
    let best: Candidate[] = [];
    const mine = this.state;
    for (const member of this.options.memberlist.allMembers()) {
      if (member.status !== 'alive' || member.name === this.options.memberlist.name) continue;
      const meta = decodeMemberMeta(member.meta);
      if (!meta || meta.configVersion === 0) continue;
      const candidate = { member: member.name, addr: member.addr, version: meta.configVersion, hash: meta.configHash };
      if (!better(candidate, mine) || this.refused.has(refusalKey(candidate)) || skip.has(member.name)) continue;
      const top = best[0];
      if (!top || better(candidate, top)) best = [candidate];
      else if (candidate.version === top.version && candidate.hash === top.hash) best.push(candidate);
    }
    return best[Math.floor(Math.random() * best.length)];
  }

  private async fetch(candidate: Candidate): Promise<void> {
    this.fetches++;
    let bytes: Uint8Array;
    try {
      bytes = await this.options.memberlist.request(candidate.addr, SNAPSHOT_REQUEST, new Uint8Array(0));
    } catch (error) {
      this.options.log.warn('snapshot fetch failed; will try another member', { from: candidate.member, version: candidate.version, error: String(error) });
      this.unreachable.set(candidate.member, Date.now() + 5_000);
      this.again = true;
      return;
    }
    const ok = await this.install(bytes, candidate.member, true);
    if (!ok) this.refused.add(refusalKey(candidate));
  }

  /** Verifies, applies, persists and advertises; a refusal is logged, advertised and leaves the current snapshot serving. */
  private async install(bytes: Uint8Array, from: string, persist: boolean): Promise<boolean> {
    const current = this.current;
    const verified = verifySnapshot(bytes, {
      publicKeys: this.options.publicKeys,
      // Same version, higher hash is the tie-break between replicas, not a replay: let verification pass it.
      currentVersion: current ? current.version - 1 : undefined,
      currentHash: current?.hash,
      loadOptions: this.options.loadOptions,
    });
    if (verified.ok && verified.current) return true;
    if (verified.ok && current && !better({ version: verified.snapshot.version, hash: verified.snapshot.hash }, current)) {
      // Genuine but not newer than ours: the sender had moved on or is behind; nothing to apply, nothing wrong.
      return true;
    }
    const failure = verified.ok ? await this.applySafely(verified.snapshot, verified.policy) : { ok: false as const, error: `${verified.reason}: ${verified.message}` };
    if (!failure.ok) {
      this.rejections++;
      const version = verified.ok ? verified.snapshot.version : 0;
      this.options.log.error('snapshot rejected; the last good config keeps serving', { from, version, error: failure.error, current: current?.version });
      this.rejected = { version, error: failure.error };
      this.options.onStateChange(this.state);
      return false;
    }
    if (!verified.ok) return false;
    // On disk before it is advertised: whoever sees the new version can count on a restart keeping it.
    if (persist && this.options.stateDir) {
      await saveSnapshot(this.options.stateDir, bytes).catch((error: unknown) =>
        this.options.log.warn('cannot persist the snapshot; a restart will need a peer', { error: String(error) }),
      );
    }
    this.current = { version: verified.snapshot.version, hash: verified.snapshot.hash, bytes };
    this.rejected = undefined;
    this.options.log.info('snapshot applied', { version: verified.snapshot.version, hash: verified.snapshot.hash.slice(0, 12), from });
    this.options.onStateChange(this.state);
    return true;
  }

  private async applySafely(snapshot: Snapshot, policy: PolicySet): Promise<ApplyResult> {
    try {
      return await this.options.apply(snapshot, policy);
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }
}

function better(a: { version: number; hash: string }, b: { version: number; hash: string }): boolean {
  return a.version > b.version || (a.version === b.version && a.hash.slice(0, ADVERTISED_HASH_LENGTH) > b.hash.slice(0, ADVERTISED_HASH_LENGTH));
}

function refusalKey(candidate: Candidate): string {
  return `${candidate.member}/${candidate.version}/${candidate.hash}`;
}
