import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { aTempDir } from '../support/temp-dir.js';

const PASSPHRASE = 'correct horse battery staple';
const withPassphrase = { env: { PERURI_CHAIN_SNAPSHOT_PASSPHRASE: PASSPHRASE } };

/** A workspace of the one-machine example and its snapshot, in a fresh folder. */
async function aSnapshottedWorkspace(): Promise<{ root: string; dir: string; archive: string }> {
  const root = await aTempDir();
  const dir = join(root, 'ws');
  expect((await runCli(['init', '--example', 'local', '--dir', dir, '--json'])).exitCode).toBe(0);
  const archive = join(root, 'ws.snapshot');
  const snapshot = await runCli(['snapshot', '--dir', dir, '--out', archive, '--json'], withPassphrase);
  expect(snapshot.exitCode, snapshot.stdout).toBe(0);
  expect(snapshot.stdout + snapshot.stderr).not.toContain(PASSPHRASE);
  return { root, dir, archive };
}

/** Where each entry's header and data are in a ustar archive (the paths here need no pax header). */
function layout(archive: Buffer): Map<string, { header: number; data: number; size: number }> {
  const entries = new Map<string, { header: number; data: number; size: number }>();
  let offset = 0;
  while (offset + 512 <= archive.length && archive[offset] !== 0) {
    const name = archive
      .subarray(offset, offset + 100)
      .toString('utf8')
      .replace(/\0.*$/s, '');
    const size = parseInt(archive.subarray(offset + 124, offset + 136).toString('ascii'), 8);
    entries.set(name, { header: offset, data: offset + 512, size });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

describe('restore refuses a damaged snapshot before writing anything', () => {
  it.each([
    [
      'a tar header',
      (l: ReturnType<typeof layout>) => l.get('files/network.yaml')!.header + 140,
      'not a readable snapshot archive',
    ],
    [
      'the manifest',
      (l: ReturnType<typeof layout>) => l.get('manifest.json')!.data + 40,
      'manifest.json: checksum mismatch',
    ],
    [
      'the encrypted entry',
      (l: ReturnType<typeof layout>) => l.get('secrets.age')!.data + 700,
      'secrets.age: checksum mismatch',
    ],
    [
      'a plain entry',
      (l: ReturnType<typeof layout>) => l.get('files/network.yaml')!.data + 5,
      'files/network.yaml: checksum mismatch',
    ],
    [
      'padding after a plain entry',
      (l: ReturnType<typeof layout>) => l.get('files/network.yaml')!.data + l.get('files/network.yaml')!.size,
      'tar headers or padding',
    ],
    ['the seal', (l: ReturnType<typeof layout>) => l.get('seal.json')!.data + 30, 'seal.json'],
    // node-tar reads a changed end block as a header that fails its checksum
    [
      'the end',
      (_l: ReturnType<typeof layout>, length: number) => length - 1,
      'checksum failure (after entry "seal.json")',
    ],
  ])('a byte flipped in %s', async (_where, offsetOf, named) => {
    // Given a snapshot with one byte flipped
    const { root, archive } = await aSnapshottedWorkspace();
    const bytes = await readFile(archive);
    const offset = offsetOf(layout(bytes), bytes.length);
    expect(offset).toBeLessThan(bytes.length);
    bytes[offset]! ^= 0xff;
    await writeFile(archive, bytes);
    // When it is restored
    const target = join(root, 'restored');
    const run = await runCli(['restore', archive, '--dir', target, '--json'], withPassphrase);
    // Then it is refused with exit 3 naming what is damaged, and nothing was written
    const document = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    expect(run.exitCode).toBe(3);
    expect(document.error.code).toBe('PC_SNAPSHOT_INVALID');
    expect(document.error.message).toContain(named);
    expect(document.error.message).toContain('nothing was written');
    expect((await readdir(root)).sort()).toEqual(['ws', 'ws.snapshot']);
  });
});

describe('the passphrase', () => {
  it('a wrong one is refused with exit 3, nothing written, and no passphrase in any output', async () => {
    // Given a snapshot and a wrong passphrase in a file
    const { root, archive } = await aSnapshottedWorkspace();
    const wrong = 'this is not the passphrase';
    await writeFile(join(root, 'wrong'), `${wrong}\n`);
    const target = join(root, 'restored');
    for (const json of [[], ['--json']]) {
      // When restoring with it, for people and for CI
      const run = await runCli([
        'restore',
        archive,
        '--dir',
        target,
        '--passphrase-file',
        join(root, 'wrong'),
        ...json,
      ]);
      // Then exit 3 says so, the folder is absent, and neither passphrase is printed
      expect(run.exitCode).toBe(3);
      expect(run.stdout + run.stderr).toContain('PC_SNAPSHOT_PASSPHRASE_WRONG');
      expect(run.stdout + run.stderr).not.toContain(wrong);
      expect(run.stdout + run.stderr).not.toContain(PASSPHRASE);
    }
    expect((await readdir(root)).sort()).toEqual(['wrong', 'ws', 'ws.snapshot']);
  });

  it('the archive holds no key material in plaintext', async () => {
    // Given a snapshot of a workspace with node keys, keystores and a development password
    const { dir, archive } = await aSnapshottedWorkspace();
    const raw = await readFile(archive);
    const text = raw.toString('latin1');
    // Then no node key appears, as hex (either case) or as raw bytes
    for (const node of ['peruri', 'pds', 'nota', 'tx']) {
      const hex = (await readFile(join(dir, 'nodes', node, 'key'), 'utf8')).trim().replace(/^0x/, '');
      expect(hex).toMatch(/^[0-9a-f]{64}$/);
      expect(text).not.toContain(hex);
      expect(text.toLowerCase()).not.toContain(hex);
      expect(raw.includes(Buffer.from(hex, 'hex'))).toBe(false);
    }
    // Nor the development keystore password, nor any keystore's ciphertext
    const password = (await readFile(join(dir, 'secrets/dev-keystore-password'), 'utf8')).trim();
    expect(password.length).toBeGreaterThan(10);
    expect(text).not.toContain(password);
    for (const keystore of ['accounts/deployer.json', 'service/minter.json', 'service/wallet-master.json']) {
      type Keystore = { Crypto?: { ciphertext: string }; crypto?: { ciphertext: string } };
      const parsed = JSON.parse(await readFile(join(dir, keystore), 'utf8')) as Keystore;
      const { ciphertext } = (parsed.Crypto ?? parsed.crypto)!;
      expect(ciphertext).toMatch(/^[0-9a-f]{64}$/);
      expect(text).not.toContain(ciphertext);
    }
    // While the public files are there in plain, as a check that the scan looks at the right bytes
    expect(text).toContain(await readFile(join(dir, 'nodes/peruri/key.pub'), 'utf8'));
  });
});
