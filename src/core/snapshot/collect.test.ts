import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { collectWorkspace, isSecretFile } from './collect.js';

const keystore = Buffer.from(
  JSON.stringify({ address: 'ab', crypto: { cipher: 'aes-128-ctr' }, version: 3 }),
);

describe('isSecretFile', () => {
  it.each([
    ['nodes/peruri/key', 0o644, 'x', true],
    ['nodes/peruri/key.pub', 0o644, 'x', false],
    ['accounts/deployer.json', 0o644, '{}', true],
    ['secrets/dev-keystore-password', 0o644, 'x', true],
    ['service/adapter.db', 0o644, 'x', true],
    ['service/adapter.yaml', 0o644, 'x', false],
    ['service/deployments.json', 0o644, '{"chainId":1}', false],
    ['deployments.json', 0o644, '{"chainId":1}', false],
    ['notes.txt', 0o600, 'x', true],
    ['.archive/2026-01-01T00-00-00Z/nodes/pds/key', 0o644, 'x', true],
    ['genesis.json', 0o644, '{"config":{}}', false],
  ])('%s (mode %o, content %s) -> %s', (path, mode, content, secret) => {
    expect(isSecretFile(path, mode, Buffer.from(content))).toBe(secret);
  });

  it('treats any keystore as secret, wherever it is', () => {
    expect(isSecretFile('service/minter.json', 0o644, keystore)).toBe(true);
    expect(isSecretFile('service/wallet-master.json', 0o644, keystore)).toBe(true);
  });
});

describe('collectWorkspace', () => {
  async function aFolder(): Promise<string> {
    const dir = await aTempDir();
    await mkdir(join(dir, 'nodes/a/data/database'), { recursive: true });
    await mkdir(join(dir, 'service'));
    await writeFile(join(dir, 'network.yaml'), 'name: x\n');
    await writeFile(join(dir, 'nodes/a/key'), '0x01', { mode: 0o600 });
    await writeFile(join(dir, 'nodes/a/data/database/000001.sst'), Buffer.from([0, 255, 1]));
    await writeFile(join(dir, 'service/adapter.db-wal'), 'wal');
    await symlink('network.yaml', join(dir, 'link.yaml'));
    return dir;
  }

  it('takes files with their mode, leaves out chain data, SQLite side files and links', async () => {
    // Given a workspace with chain data, a WAL file and a symbolic link
    const dir = await aFolder();
    // When it is collected without chain data
    const result = await collectWorkspace({ dir, nodeNames: ['a'], includeChainData: false });
    // Then only the regular workspace files are taken, the link is reported
    expect(result.files.map((file) => [file.path, file.mode, file.secret])).toEqual([
      ['network.yaml', 0o644 & ~process.umask(), false],
      ['nodes/a/key', 0o600, true],
    ]);
    expect(result.chainData).toEqual([]);
    expect(result.database).toEqual({ present: false, reason: expect.stringContaining('service/*.db') });
    expect(result.warnings).toEqual(['link.yaml: skipped, not a regular file or folder']);
  });

  it('takes the data folder of a node of the spec when asked, and says which nodes had none', async () => {
    const dir = await aFolder();
    const result = await collectWorkspace({ dir, nodeNames: ['a', 'b'], includeChainData: true });
    expect(result.files.find((file) => file.path === 'nodes/a/data/database/000001.sst')?.data).toEqual(
      Buffer.from([0, 255, 1]),
    );
    expect(result.chainData).toEqual(['a']);
    expect(result.warnings.join('\n')).toContain('Node b: no data in nodes/b/data');
  });

  it('copies an SQLite database through the backup API and leaves the file being written alone', async () => {
    // Given an adapter database in WAL mode with uncheckpointed rows
    const dir = await aFolder();
    const database = new Database(join(dir, 'service/adapter.db'));
    database.pragma('journal_mode = WAL');
    database.exec('CREATE TABLE t (v INTEGER)');
    database.prepare('INSERT INTO t VALUES (?)').run(42);
    try {
      // When it is collected
      const result = await collectWorkspace({ dir, nodeNames: ['a'], includeChainData: false });
      // Then the copy holds the rows that are still only in the WAL, and the WAL file is not taken
      const copy = result.files.find((file) => file.path === 'service/adapter.db')!;
      expect(copy.secret).toBe(true);
      expect(result.files.some((file) => file.path.endsWith('-wal'))).toBe(false);
      expect(result.database).toEqual({
        present: true,
        paths: ['service/adapter.db'],
        method: 'sqlite-online-backup',
      });
      await writeFile(join(dir, 'copy.db'), copy.data);
      const reopened = new Database(join(dir, 'copy.db'), { readonly: true });
      expect(reopened.prepare('SELECT v FROM t').pluck().all()).toEqual([42]);
      reopened.close();
    } finally {
      database.close();
    }
  });
});
