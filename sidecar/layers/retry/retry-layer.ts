import type { IncomingHttpHeaders } from 'node:http';
import { CancelReason, type Handler, type Layer, type Outcome, type RequestContext } from '../../pipeline/context.ts';
import { parseRetryAfter } from '../../upstream/forward.ts';
import { retryWaitMs } from './backoff.ts';
import type { RetryBudget } from './budget.ts';
import { conditionsMatch, replaySafe, type RetryReason } from './conditions.ts';
import type { RetryPolicy } from './policy.ts';
import { prepareBody } from './replay-body.ts';

export interface RetryInfo {
  /** The attempt about to start: 2 for the first retry. */
  attempt: number;
  /** The failed attempt's status, or its flag when it got no response. */
  reason: RetryReason;
  waitMs: number;
}

export interface RetryDeps {
  now?: () => number;
  /** Waits `ms`; should resolve early when `signal` aborts (the layer also stops waiting on abort). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Starts the per-try timer; returns its cancel function. */
  setTimer?: (fire: () => void, ms: number) => () => void;
  /** Called once per retry, when it is scheduled, for logs and spans. */
  onRetry?: (ctx: RequestContext, info: RetryInfo) => void;
}

type Deps = Required<Omit<RetryDeps, 'onRetry'>> & { onRetry: RetryDeps['onRetry'] | undefined };

/** Why the last wanted retry did not happen. */
type Denial = 'limit' | 'body' | 'deadline' | 'budget';

interface Plan {
  reason: RetryReason;
  waitMs: number;
}

/**
 * Retries failed attempts within the policy, the Service's retry budget and the request deadline. Each retry goes
 * back through the rest of the chain (circuit breaker, balancer, forwarder), so it picks a fresh endpoint, avoiding
 * those already tried. A response is retried only if it has not been sent: the forwarder asks
 * `ctx.retryableResponse` when a response starts, and the answer is true only when a retry will really follow, so
 * the last attempt's response always reaches the client. Returns undefined when there is nothing to do (no retries
 * and no per-try timeout).
 */
export function retryLayer(policy: RetryPolicy, budget: RetryBudget, deps: RetryDeps = {}): Layer | undefined {
  if (policy.numRetries === 0 && policy.perTryTimeoutMs === undefined) return undefined;
  const resolved: Deps = {
    now: deps.now ?? (() => performance.now()),
    sleep: deps.sleep ?? abortableSleep,
    random: deps.random ?? Math.random,
    setTimer: deps.setTimer ?? startTimer,
    onRetry: deps.onRetry,
  };
  return (next: Handler): Handler =>
    (ctx) =>
      new RetryRun(ctx, next, policy, budget, resolved).run();
}

/** One request's way through its attempts. */
class RetryRun {
  private readonly ctx: RequestContext;
  private readonly next: Handler;
  private readonly policy: RetryPolicy;
  private readonly budget: RetryBudget;
  private readonly deps: Deps;
  private maxRetries: number;
  private retries = 0;
  /** The retry decided for the current attempt when its response started. */
  private plan: Plan | undefined;
  private denied: Denial | undefined;
  private cancelTimer: (() => void) | undefined;

  constructor(ctx: RequestContext, next: Handler, policy: RetryPolicy, budget: RetryBudget, deps: Deps) {
    this.ctx = ctx;
    this.next = next;
    this.policy = policy;
    this.budget = budget;
    this.deps = deps;
    this.maxRetries = policy.numRetries;
  }

  async run(): Promise<Outcome> {
    const ctx = this.ctx;
    this.budget.recordRequest();
    if (this.maxRetries > 0 && ctx.hasBody && !ctx.replayBody) {
      const body = await prepareBody(ctx, this.policy.bufferLimitBytes);
      if (typeof body === 'object') return body;
      if (body === 'single-attempt') this.maxRetries = 0;
    }
    const outerHook = ctx.retryableResponse;
    ctx.retryableResponse = (status, headers) => this.onResponseStart(status, headers);
    try {
      for (;;) {
        const outcome = await this.attempt();
        if (outcome.committed) return this.annotate(outcome);
        const plan = this.plan ?? (outcome.flag !== undefined ? this.decide(outcome.flag, outcome.detail, outcome.retryAfterMs) : undefined);
        if (!plan) return this.giveUp(outcome);
        if (!(await this.prepareRetry(plan))) return this.abandoned(outcome);
      }
    } finally {
      ctx.retryableResponse = outerHook;
      this.stopTimer();
    }
  }

  private attempt(): Promise<Outcome> {
    this.plan = undefined;
    this.denied = undefined;
    const perTryMs = this.policy.perTryTimeoutMs;
    // Without a per-try timer there is nothing to stop afterwards: one promise layer fewer on every request.
    return perTryMs === undefined ? this.next(this.ctx) : this.timedAttempt(perTryMs);
  }

  private async timedAttempt(perTryMs: number): Promise<Outcome> {
    this.cancelTimer = this.deps.setTimer(() => this.onPerTryTimeout(perTryMs), perTryMs);
    try {
      return await this.next(this.ctx);
    } finally {
      this.stopTimer();
    }
  }

  /**
   * The per-try timeout covers the wait for the response to start (Gateway API's `backendRequest`): it aborts only
   * this attempt, which the forwarder then reports as `UT`, and a timeout is retried under `gateway-error`/`5xx`
   * as in Envoy. A response already being sent is never cut by it.
   */
  private onPerTryTimeout(ms: number): void {
    this.cancelTimer = undefined;
    this.ctx.cancelAttempt?.(new CancelReason('UT', `per-try timeout of ${ms} ms exceeded`));
  }

  /** The forwarder's question when a response starts: drop it and retry (true), or send it (false)? */
  private onResponseStart(status: number, headers: IncomingHttpHeaders): boolean {
    this.stopTimer();
    const plan = this.decide(status, undefined, parseRetryAfter(headers['retry-after']));
    if (!plan) return false;
    this.plan = plan;
    return true;
  }

  /** Decides whether the failed attempt is retried; a granted retry is charged to the budget at once. */
  private decide(reason: RetryReason, detail: string | undefined, retryAfterMs: number | undefined): Plan | undefined {
    const ctx = this.ctx;
    if (ctx.cancelled || ctx.res.headersSent) return undefined;
    if (!conditionsMatch(this.policy.retryOn, reason, detail) || !replaySafe(ctx, reason, detail)) return undefined;
    if (this.retries >= this.maxRetries) {
      this.denied = this.policy.numRetries > 0 && this.maxRetries === 0 ? 'body' : 'limit';
      return undefined;
    }
    const waitMs = retryWaitMs(this.retries, this.policy.backoff, this.deps.random, retryAfterMs);
    if (ctx.deadlineAt !== undefined && this.deps.now() + waitMs >= ctx.deadlineAt) {
      this.denied = 'deadline';
      return undefined;
    }
    if (!this.budget.tryRetry()) {
      this.denied = 'budget';
      return undefined;
    }
    return { reason, waitMs };
  }

  /** Records the retry, moves the failed endpoint to the tried set and waits the backoff; false when abandoned. */
  private async prepareRetry(plan: Plan): Promise<boolean> {
    const ctx = this.ctx;
    if (ctx.cancelled) return false;
    this.retries++;
    this.deps.onRetry?.(ctx, { attempt: this.retries + 1, reason: plan.reason, waitMs: plan.waitMs });
    if (ctx.endpoint) (ctx.triedEndpoints ??= new Set()).add(ctx.endpoint);
    ctx.endpoint = undefined;
    if (plan.waitMs > 0) await this.wait(plan.waitMs);
    return !ctx.cancelled;
  }

  /** The backoff, woken early by `cancelRequest` (deadline, client gone) through `ctx.cancelAttempt`. */
  private async wait(ms: number): Promise<void> {
    const ctx = this.ctx;
    const controller = new AbortController();
    const aborted = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
    ctx.cancelAttempt = (reason) => controller.abort(reason);
    try {
      await Promise.race([this.deps.sleep(ms, controller.signal), aborted]);
    } finally {
      ctx.cancelAttempt = undefined;
    }
  }

  /** A sent response, with a note when the budget refused its retry. */
  private annotate(outcome: Outcome): Outcome {
    return this.denied === 'budget' ? { ...outcome, detail: note('retry budget exhausted', outcome.detail) } : outcome;
  }

  /** The last attempt's failure, saying why it was not retried. */
  private giveUp(outcome: Outcome): Outcome {
    const flag = outcome.flag;
    if (flag === undefined) return this.ctx.cancelled ? this.abandoned(outcome) : outcome;
    switch (this.denied) {
      case 'limit': {
        // The cause keeps its own flag and status (a refused connection stays 502 UF); the detail says retries ran out.
        if (this.retries === 0) return outcome;
        return { ...outcome, detail: `after ${this.retries + 1} attempts: ${outcome.detail ?? flag}` };
      }
      case 'budget':
        return { ...outcome, detail: note('retry budget exhausted', outcome.detail) };
      case 'deadline':
        return { ...outcome, detail: note('no time left to retry before the request deadline', outcome.detail) };
      case 'body':
        return { ...outcome, detail: note(`not retried: body is chunked or over ${this.policy.bufferLimitBytes} bytes`, outcome.detail) };
      default:
        return outcome;
    }
  }

  /** The request was abandoned (deadline, client gone) after a response was dropped or during the backoff. */
  private abandoned(outcome: Outcome): Outcome {
    const reason = this.ctx.cancelled;
    if (!reason) return outcome;
    return { status: outcome.status, committed: false, flag: reason.outriggerFlag, detail: reason.message };
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}

function note(first: string, detail: string | undefined): string {
  return detail ? `${first}; ${detail}` : first;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function startTimer(fire: () => void, ms: number): () => void {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
}
