import { Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, InputError } from '../errors.js';
import {
  assembleArchive,
  buildArchive,
  decryptArchive,
  isSafeRelativePath,
  sha256,
  verifyArchive,
  type ArchiveFile,
  type ManifestHead,
} from './archive.js';
import { encodeTarEntry, readTar, TAR_END } from './tar.js';

const PASSPHRASE = 'a passphrase long enough';
// Tests keep scrypt cheap; the CLI uses age's default work factor (2^18).
const FAST = 2;

function aHead(overrides: Partial<ManifestHead> = {}): ManifestHead {
  return {
    createdAt: '2026-01-31T12:00:00.000Z',
    peruriChainVersion: '0.0.0-test',
    network: 'test-net',
    chainId: 1337,
    sourceDir: '/srv/ws',
    database: { present: false, reason: 'none' },
    chainData: [],
    ...overrides,
  };
}

function someFiles(): ArchiveFile[] {
  return [
    {
      path: 'network.yaml',
      mode: 0o644,
      data: Buffer.from('name: test-net\nchainId: 1337\n'),
      secret: false,
    },
    { path: 'genesis.json', mode: 0o644, data: Buffer.from('{"config":{"chainId":1337}}\n'), secret: false },
    { path: 'nodes/a/key', mode: 0o600, data: Buffer.from(`0x${'ab'.repeat(32)}`), secret: true },
    {
      path: 'secrets/dev-keystore-password',
      mode: 0o600,
      data: Buffer.from('hunter2hunter2\n'),
      secret: true,
    },
  ];
}

async function anArchive(files = someFiles()): Promise<Buffer> {
  return (await buildArchive({ head: aHead(), files, passphrase: PASSPHRASE, scryptWorkFactor: FAST })).bytes;
}

async function openArchive(bytes: Buffer, passphrase = PASSPHRASE): Promise<ArchiveFile[]> {
  const verified = await verifyArchive(bytes, 'snap');
  return [...verified.plainFiles, ...(await decryptArchive(verified, passphrase, 'snap'))];
}

async function failureOf(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('snapshot archive', () => {
  it('gives back every file with its content and mode', async () => {
    // Given an archive of plain and secret files
    const bytes = await anArchive();
    // When it is verified and decrypted
    const files = await openArchive(bytes);
    // Then every file comes back unchanged, secret ones marked so
    const byPath = (list: ArchiveFile[]) => [...list].sort((a, b) => a.path.localeCompare(b.path));
    expect(byPath(files)).toEqual(byPath(someFiles()));
  });

  it('is a tar whose manifest and plain files are readable without the passphrase', async () => {
    // Given an archive
    const entries = await readTar(await anArchive());
    // Then the manifest lists every file, with hashes for plain ones only
    expect(entries.map((entry) => entry.path)).toEqual([
      'manifest.json',
      'files/genesis.json',
      'files/network.yaml',
      'secrets.age',
      'seal.json',
    ]);
    const manifest = JSON.parse(entries[0]!.data.toString()) as { files: Record<string, unknown>[] };
    expect(manifest.files).toEqual([
      expect.objectContaining({
        path: 'genesis.json',
        mode: '0644',
        encrypted: false,
        sha256: expect.any(String),
      }),
      {
        path: 'network.yaml',
        mode: '0644',
        encrypted: false,
        size: 29,
        sha256: sha256(someFiles()[0]!.data),
      },
      { path: 'nodes/a/key', mode: '0600', encrypted: true },
      { path: 'secrets/dev-keystore-password', mode: '0600', encrypted: true },
    ]);
  });

  it('holds no secret in plaintext, nor a plain hash of one', async () => {
    // Given an archive with a node key and a password
    const bytes = await anArchive();
    // Then neither they nor their SHA-256 appear in its bytes
    const text = bytes.toString('latin1');
    for (const secret of someFiles().filter((file) => file.secret)) {
      expect(text).not.toContain(secret.data.toString().trim());
      expect(text).not.toContain(sha256(secret.data));
    }
    expect(text).not.toContain('ab'.repeat(32));
  });

  it('refuses a flipped byte at every single offset, naming what is damaged', async () => {
    // Given an archive
    const bytes = await anArchive();
    const messages = new Set<string>();
    // When each byte in turn is flipped
    for (let offset = 0; offset < bytes.length; offset += 1) {
      const flipped = Buffer.from(bytes);
      flipped[offset]! ^= 0xff;
      // Then verification or decryption fails with PC_SNAPSHOT_INVALID, every time
      const error = await openArchive(flipped).then(
        () => new Error(`byte ${offset} flipped was accepted`),
        (caught: unknown) => caught,
      );
      expect((error as InputError).code, `offset ${offset}`).toBe(ErrorCodes.SNAPSHOT_INVALID);
      messages.add((error as Error).message.replace(/ \(after entry .*\)|\(at the start\)/, ''));
    }
    // And the message names the entry where it could
    const all = [...messages].join('\n');
    expect(all).toContain('snap: manifest.json: checksum mismatch');
    expect(all).toContain('snap: files/network.yaml: checksum mismatch');
    expect(all).toContain('snap: files/genesis.json: checksum mismatch');
    expect(all).toContain('snap: secrets.age: checksum mismatch');
    expect(all).toContain('snap: seal.json is damaged');
    expect(all).toContain('bytes outside the entries (tar headers or padding) do not match seal.json');
    expect(all).toContain('not a readable snapshot archive');
  });

  it('refuses a truncated archive and one with bytes appended', async () => {
    const bytes = await anArchive();
    for (const changed of [
      bytes.subarray(0, bytes.length - 512),
      Buffer.concat([bytes, Buffer.alloc(512)]),
    ]) {
      expect((await failureOf(verifyArchive(changed, 'snap'))).code).toBe(ErrorCodes.SNAPSHOT_INVALID);
    }
  });

  it('tells a wrong passphrase apart from damage, and never echoes it', async () => {
    // Given an intact archive
    const verified = await verifyArchive(await anArchive(), 'snap');
    // When it is opened with another passphrase
    const error = await failureOf(decryptArchive(verified, 'not the passphrase at all', 'snap'));
    // Then it says so, without the passphrase
    expect(error.code).toBe(ErrorCodes.SNAPSHOT_PASSPHRASE_WRONG);
    expect(`${error.message} ${error.hint}`).not.toContain('not the passphrase at all');
    expect(`${error.message} ${error.hint}`).not.toContain(PASSPHRASE);
  });

  it('finds an altered plain file even when every unkeyed checksum was recomputed', async () => {
    // Given an archive, and an attacker without the passphrase who changes network.yaml and then
    // recomputes the manifest's hash and the seal, keeping the encrypted section
    const original = await verifyArchive(await anArchive(), 'snap');
    const evil = Buffer.from('name: evil-net\nchainId: 666\n');
    const manifest = structuredClone(original.manifest);
    const file = manifest.files.find((entry) => entry.path === 'network.yaml')!;
    file.sha256 = sha256(evil);
    file.size = evil.length;
    const forged = assembleArchive({
      manifest: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      plain: original.plainFiles.map((entry) => ({
        path: entry.path,
        mode: entry.mode,
        data: entry.path === 'network.yaml' ? evil : entry.data,
      })),
      encrypted: original.encrypted,
      mtime: new Date(0),
    });
    // When it is checked: the unkeyed part passes...
    const verified = await verifyArchive(forged, 'snap');
    // ...but the encrypted index, authenticated by the passphrase, does not vouch for that manifest
    const error = await failureOf(decryptArchive(verified, PASSPHRASE, 'snap'));
    expect(error.code).toBe(ErrorCodes.SNAPSHOT_INVALID);
    expect(error.message).toContain('manifest.json: does not match the encrypted index');
  });

  it('refuses an encrypted section made with another passphrase as a wrong passphrase', async () => {
    // Given an archive whose secrets.age was replaced by one encrypted with another passphrase
    const original = await verifyArchive(await anArchive(), 'snap');
    const encrypter = new Encrypter();
    encrypter.setPassphrase('the attacker passphrase');
    encrypter.setScryptWorkFactor(FAST);
    const forged = assembleArchive({
      manifest: Buffer.from(`${JSON.stringify(original.manifest, null, 2)}\n`),
      plain: original.plainFiles.map(({ path, mode, data }) => ({ path, mode, data })),
      encrypted: Buffer.from(await encrypter.encrypt(Buffer.concat([TAR_END]))),
      mtime: new Date(0),
    });
    // Then the real passphrase does not open it
    const error = await failureOf(decryptArchive(await verifyArchive(forged, 'snap'), PASSPHRASE, 'snap'));
    expect(error.code).toBe(ErrorCodes.SNAPSHOT_PASSPHRASE_WRONG);
  });

  it('refuses a tar that is not a snapshot', async () => {
    const other = Buffer.concat([
      encodeTarEntry({ path: 'README', mode: 0o644, data: Buffer.from('hello') }, new Date(0)),
      TAR_END,
    ]);
    const error = await failureOf(verifyArchive(other, 'other.tar'));
    expect(error.message).toContain('not a peruri-chain snapshot');
  });

  it('keeps paths longer than ustar allows (pax headers)', async () => {
    const deep = `nodes/a/data/${'d'.repeat(120)}/${'f'.repeat(80)}.sst`;
    const files = [
      ...someFiles(),
      { path: deep, mode: 0o644, data: Buffer.from([0, 1, 2, 255]), secret: false },
    ];
    const restored = await openArchive(await anArchive(files));
    expect(restored.find((file) => file.path === deep)?.data).toEqual(Buffer.from([0, 1, 2, 255]));
  });
});

describe('isSafeRelativePath', () => {
  it.each([
    ['network.yaml', true],
    ['nodes/a/key', true],
    ['.archive/2026-01-01T00-00-00Z/nodes/a/key', true],
    ['../etc/passwd', false],
    ['nodes/../../x', false],
    ['/etc/passwd', false],
    ['nodes//key', false],
    ['nodes/./key', false],
    ['nodes\\key', false],
    ['', false],
  ])('%s -> %s', (path, safe) => {
    expect(isSafeRelativePath(path)).toBe(safe);
  });
});
