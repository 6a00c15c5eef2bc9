import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseKey } from '../../gossip/keyring.ts';
import { keyId, loadPrivateKey, loadPublicKey } from '../../policy/snapshot/keys.ts';
import { keygenCommand } from './keygen.ts';

async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await keygenCommand.run(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

const posix = process.platform !== 'win32';

describe('outrigger keygen', () => {
  let root = '';

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'outrigger-keygen-'));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes a loadable Ed25519 key pair and a gossip key into a new folder and says where each goes', async () => {
    const dir = join(root, 'fresh', 'keys');
    const { code, out, err } = await run('--out', dir);
    assert.equal(code, 0, err.join('\n'));
    assert.deepEqual(err, []);
    assert.deepEqual((await readdir(dir)).sort(), ['gossip.key', 'signing-key.pem', 'signing-key.pub.pem']);

    const privateKey = loadPrivateKey(await readFile(join(dir, 'signing-key.pem')));
    const publicKey = loadPublicKey(await readFile(join(dir, 'signing-key.pub.pem')));
    assert.equal(keyId(privateKey), keyId(publicKey), 'the public key belongs to the private key');
    const message = Buffer.from('snapshot v1');
    assert.ok(verify(null, message, publicKey, sign(null, message, privateKey)));

    const gossip = await readFile(join(dir, 'gossip.key'), 'utf8');
    const lines = gossip.split('\n');
    assert.deepEqual(lines.slice(1), [''], 'one key on one line, newline-terminated');
    assert.equal(parseKey(lines[0] ?? '').length, 32);

    const text = out.join('\n');
    assert.equal(out[0], `wrote 3 files to ${dir} (signing key id ${keyId(publicKey)}):`);
    const escape = (path: string): string => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(text, new RegExp(`signing-key\\.pem .*only to control-plane replicas\n +outrigger control-plane --signing-key ${escape(join(dir, 'signing-key.pem'))}\n`));
    assert.match(text, new RegExp(`signing-key\\.pub\\.pem .*every sidecar\n +outrigger sidecar --mesh-key ${escape(join(dir, 'signing-key.pub.pem'))}\n`));
    assert.match(text, new RegExp(`gossip\\.key .*every member.*\n +--gossip-key ${escape(join(dir, 'gossip.key'))} `));
    assert.doesNotMatch(text, /BEGIN|PRIVATE KEY/, 'no key material is printed');
    assert.ok(!text.includes(lines[0] ?? 'x'), 'the gossip key is not printed');
  });

  it('creates the folder 0700 and the secret files 0600', { skip: !posix }, async () => {
    const dir = join(root, 'modes');
    const previous = process.umask(0o022);
    try {
      assert.equal((await run('--out', dir)).code, 0);
    } finally {
      process.umask(previous);
    }
    assert.equal(await mode(dir), 0o700);
    assert.equal(await mode(join(dir, 'signing-key.pem')), 0o600);
    assert.equal(await mode(join(dir, 'gossip.key')), 0o600);
    assert.equal(await mode(join(dir, 'signing-key.pub.pem')), 0o644);
  });

  it('writes different keys each time', async () => {
    await run('--out', join(root, 'a'));
    await run('--out', join(root, 'b'));
    for (const name of ['signing-key.pem', 'signing-key.pub.pem', 'gossip.key']) {
      assert.notEqual(await readFile(join(root, 'a', name), 'utf8'), await readFile(join(root, 'b', name), 'utf8'), name);
    }
  });

  it('refuses to overwrite existing files, naming them, and leaves the folder untouched', async () => {
    const dir = join(root, 'existing');
    assert.equal((await run('--out', dir)).code, 0);
    const before = await readFile(join(dir, 'signing-key.pem'), 'utf8');

    const again = await run('--out', dir);
    assert.equal(again.code, 1);
    assert.deepEqual(again.out, []);
    assert.equal(again.err[0], `outrigger keygen: refusing to overwrite ${join(dir, 'signing-key.pem')}: it already exists`);
    assert.match(again.err.join('\n'), /gossip\.key: it already exists/);
    assert.match(again.err.at(-1) ?? '', /--force/);
    assert.equal(await readFile(join(dir, 'signing-key.pem'), 'utf8'), before);

    // One existing file is enough to refuse, and nothing else is written.
    const partial = join(root, 'partial');
    assert.equal((await run('--out', join(partial))).code, 0);
    await rm(join(partial, 'signing-key.pem'));
    await rm(join(partial, 'signing-key.pub.pem'));
    const refused = await run('--out', partial);
    assert.equal(refused.code, 1);
    assert.deepEqual(refused.err.slice(0, -1), [`outrigger keygen: refusing to overwrite ${join(partial, 'gossip.key')}: it already exists`]);
    assert.deepEqual(await readdir(partial), ['gossip.key']);
  });

  it('replaces existing files with --force, restoring their modes', async () => {
    const dir = join(root, 'forced');
    assert.equal((await run('--out', dir)).code, 0);
    const oldPrivate = await readFile(join(dir, 'signing-key.pem'), 'utf8');
    const oldGossip = await readFile(join(dir, 'gossip.key'), 'utf8');
    await chmod(join(dir, 'signing-key.pem'), 0o644);

    const { code, err } = await run('--out', dir, '--force');
    assert.equal(code, 0, err.join('\n'));
    assert.notEqual(await readFile(join(dir, 'signing-key.pem'), 'utf8'), oldPrivate);
    assert.notEqual(await readFile(join(dir, 'gossip.key'), 'utf8'), oldGossip);
    loadPrivateKey(await readFile(join(dir, 'signing-key.pem')));
    if (posix) assert.equal(await mode(join(dir, 'signing-key.pem')), 0o600);
    assert.deepEqual((await readdir(dir)).sort(), ['gossip.key', 'signing-key.pem', 'signing-key.pub.pem'], 'no temporary files left');
  });

  it('exits 1 when --out is a file', async () => {
    const file = join(root, 'not-a-folder');
    await writeFile(file, 'x');
    const { code, err } = await run('--out', file);
    assert.equal(code, 1);
    assert.equal(err[0], `outrigger keygen: cannot use ${file} as the key folder: it exists and is not a folder`);
  });

  it('prints usage with --help and exits 2 for a missing --out or an unknown flag', async () => {
    const help = await run('--help');
    assert.equal(help.code, 0);
    const usage = help.out.join('\n');
    assert.match(usage, /^outrigger keygen --out DIR \[--force\]/);
    for (const text of ['--signing-key', '--mesh-key', '--gossip-key', '0700', '0600', '--force']) assert.ok(usage.includes(text), text);

    const missing = await run();
    assert.equal(missing.code, 2);
    assert.equal(missing.err[0], 'outrigger keygen: missing --out DIR: name the folder to write the keys into');

    const unknown = await run('--out', join(root, 'x'), '--frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err[0] ?? '', /^outrigger keygen: Unknown option '--frobnicate'/);

    const positional = await run(join(root, 'y'));
    assert.equal(positional.code, 2);
  });
});
