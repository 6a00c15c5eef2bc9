import { chmod, lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { generateKey } from '../../gossip/keyring.ts';
import { generateSigningKeys, keyId, loadPublicKey } from '../../policy/snapshot/keys.ts';
import { parseCommandArgs, usageError, type Command } from '../command.ts';

export const SIGNING_KEY_FILE = 'signing-key.pem';
export const PUBLIC_KEY_FILE = 'signing-key.pub.pem';
export const GOSSIP_KEY_FILE = 'gossip.key';

const USAGE = `outrigger keygen --out DIR [--force]

Creates the mesh's key material in DIR (created with mode 0700 if missing):

  ${SIGNING_KEY_FILE}      Ed25519 private key that signs config snapshots (mode 0600).
                       Only control-plane replicas get it:
                         outrigger control-plane --signing-key DIR/${SIGNING_KEY_FILE}
  ${PUBLIC_KEY_FILE}  its public key, with which members verify snapshots.
                       Every sidecar gets it: --mesh-key DIR/${PUBLIC_KEY_FILE}
  ${GOSSIP_KEY_FILE}           AES-256 key that encrypts gossip, base64, one key per line,
                       the first line being the primary key (mode 0600).
                       Every member gets it: --gossip-key DIR/${GOSSIP_KEY_FILE}

Whoever holds ${SIGNING_KEY_FILE} can push config to the whole mesh, and whoever
holds ${GOSSIP_KEY_FILE} can join it: keep both secret. No key is printed.

Existing files are never overwritten unless --force is given. Exit 0 on
success, 1 when a file exists or cannot be written, 2 on a usage error.

Flags:
  --out DIR     folder to write the keys into (required)
  --force       replace existing key files
  -h, --help    print this help`;

interface KeyFile {
  name: string;
  contents: string;
  mode: number;
}

export const keygenCommand: Command = {
  name: 'keygen',
  usage: USAGE,
  async run(args, io) {
    const parsed = parseCommandArgs(io, { name: 'keygen', usage: USAGE }, {
      args,
      allowPositionals: false,
      options: {
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (typeof parsed === 'number') return parsed;
    const { values } = parsed;
    if (values.out === undefined || values.out === '') return usageError(io, 'keygen', 'missing --out DIR: name the folder to write the keys into');
    const dir = resolve(values.out);

    try {
      await ensureDirectory(dir);
    } catch (error) {
      io.err(`outrigger keygen: cannot use ${dir} as the key folder: ${describe(error)}`);
      return 1;
    }

    const signing = generateSigningKeys();
    const files: KeyFile[] = [
      { name: SIGNING_KEY_FILE, contents: signing.privateKeyPem, mode: 0o600 },
      { name: PUBLIC_KEY_FILE, contents: signing.publicKeyPem, mode: 0o644 },
      { name: GOSSIP_KEY_FILE, contents: `${Buffer.from(generateKey()).toString('base64')}\n`, mode: 0o600 },
    ];

    if (!values.force) {
      // Checked for all three first, so a refusal leaves the folder as it was rather than half-written.
      const existing: string[] = [];
      for (const file of files) if (await exists(join(dir, file.name))) existing.push(join(dir, file.name));
      if (existing.length > 0) {
        for (const path of existing) io.err(`outrigger keygen: refusing to overwrite ${path}: it already exists`);
        io.err('use --force to replace existing keys (members using the old keys must then be given the new ones)');
        return 1;
      }
    }

    for (const file of files) {
      const path = join(dir, file.name);
      try {
        await writeKeyFile(path, file.contents, file.mode, values.force);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        io.err(code === 'EEXIST' ? `outrigger keygen: refusing to overwrite ${path}: it already exists` : `outrigger keygen: cannot write ${path}: ${describe(error)}`);
        return 1;
      }
    }

    const id = keyId(loadPublicKey(signing.publicKeyPem));
    io.out(`wrote ${files.length} files to ${dir} (signing key id ${id}):`);
    io.out(`  ${SIGNING_KEY_FILE}      private signing key (mode 0600): give it only to control-plane replicas`);
    io.out(`                       outrigger control-plane --signing-key ${join(dir, SIGNING_KEY_FILE)}`);
    io.out(`  ${PUBLIC_KEY_FILE}  public key: give it to every sidecar`);
    io.out(`                       outrigger sidecar --mesh-key ${join(dir, PUBLIC_KEY_FILE)}`);
    io.out(`  ${GOSSIP_KEY_FILE}           gossip key (mode 0600): give it to every member, sidecars and control-plane replicas`);
    io.out(`                       --gossip-key ${join(dir, GOSSIP_KEY_FILE)} on outrigger sidecar and outrigger control-plane`);
    return 0;
  },
};

/** Creates `dir` with mode 0700 when missing; an existing folder is used as it is. */
async function ensureDirectory(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing) {
    if (!existing.isDirectory()) throw new Error('it exists and is not a folder');
    return;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700); // the umask may have narrowed the mode mkdir() applied
}

/**
 * Without `replace` the file is created exclusively (never clobbering one that appeared meanwhile); with it, the new
 * contents go to a temporary file that is renamed over the old one, so a reader never sees a half-written key and the
 * mode is the intended one even when the old file's was not.
 */
async function writeKeyFile(path: string, contents: string, mode: number, replace: boolean): Promise<void> {
  const target = replace ? `${path}.${randomBytes(6).toString('hex')}.tmp` : path;
  const handle = await open(target, 'wx', mode);
  try {
    await handle.writeFile(contents);
    await handle.chmod(mode); // the umask may have narrowed the mode open() applied
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(target, { force: true });
    throw error;
  }
  await handle.close();
  if (replace) {
    try {
      await rename(target, path);
    } catch (error) {
      await rm(target, { force: true });
      throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}


function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'ENOTDIR') return 'a parent is not a folder';
    return error.message;
  }
  return String(error);
}
