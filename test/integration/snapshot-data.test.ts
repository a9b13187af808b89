import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { aTempDir } from '../support/temp-dir.js';

const PASSPHRASE = 'correct horse battery staple';
const withPassphrase = { env: { PERURI_CHAIN_SNAPSHOT_PASSPHRASE: PASSPHRASE } };

async function aWorkspace(): Promise<{ root: string; dir: string }> {
  const root = await aTempDir();
  const dir = join(root, 'ws');
  expect((await runCli(['init', '--example', 'local', '--dir', dir, '--json'])).exitCode).toBe(0);
  return { root, dir };
}

async function restoreJson(archive: string, dir: string) {
  const run = await runCli(['restore', archive, '--dir', dir, '--json'], withPassphrase);
  expect(run.exitCode, run.stdout).toBe(0);
  return JSON.parse(run.stdout) as { result: Record<string, unknown> };
}

describe('the adapter database', () => {
  it('is copied consistently while rows are being written to it', async () => {
    // Given the adapter's SQLite database in WAL mode, its committed rows only in the WAL (no
    // checkpoint), so a plain copy of the file would not hold them
    const { root, dir } = await aWorkspace();
    const database = new Database(join(dir, 'service/adapter.db'));
    database.pragma('journal_mode = WAL');
    database.pragma('wal_autocheckpoint = 0');
    database.exec('CREATE TABLE activity (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
    database.exec('CREATE TABLE total (n INTEGER NOT NULL)');
    database.exec('INSERT INTO total VALUES (0)');
    const insert = database.prepare('INSERT INTO activity (payload) VALUES (?)');
    const count = database.prepare('UPDATE total SET n = n + 1');
    // Each transaction adds a row and counts it: in any consistent copy the two agree.
    const write = database.transaction((rows: number) => {
      for (let row = 0; row < rows; row += 1) {
        insert.run(randomBytes(300).toString('hex'));
        count.run();
      }
    });
    write(2000);
    try {
      // When a snapshot is taken while a writer keeps committing
      const archive = join(root, 'ws.snapshot');
      const snapshot = runCli(['snapshot', '--dir', dir, '--out', archive, '--json'], withPassphrase);
      let done = false;
      void snapshot.finally(() => {
        done = true;
      });
      let duringSnapshot = 0;
      while (!done) {
        write(10);
        duringSnapshot += 10;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const taken = await snapshot;
      expect(taken.exitCode, taken.stdout).toBe(0);
      expect(duringSnapshot).toBeGreaterThan(0);
      expect(JSON.parse(taken.stdout).result.databases).toEqual(['service/adapter.db']);

      // Then the restored copy passes SQLite's integrity check and is one consistent state
      const restoredDir = join(root, 'restored');
      await restoreJson(archive, restoredDir);
      const restoredPath = join(restoredDir, 'service/adapter.db');
      expect((await stat(restoredPath)).mode & 0o777).toBe(0o600);
      const restored = new Database(restoredPath, { readonly: true });
      try {
        expect(restored.pragma('integrity_check', { simple: true })).toBe('ok');
        const rows = restored.prepare('SELECT count(*) FROM activity').pluck().get() as number;
        expect(restored.prepare('SELECT n FROM total').pluck().get()).toBe(rows);
        expect(rows).toBeGreaterThanOrEqual(2000);
        expect(rows).toBeLessThanOrEqual(2000 + duringSnapshot);
      } finally {
        restored.close();
      }
    } finally {
      database.close();
    }
  });

  it('is recorded as absent when there is none', async () => {
    const { root, dir } = await aWorkspace();
    const archive = join(root, 'ws.snapshot');
    const taken = await runCli(['snapshot', '--dir', dir, '--out', archive, '--json'], withPassphrase);
    expect(JSON.parse(taken.stdout).result.databases).toEqual([]);
    const manifest = JSON.parse((await execa('tar', ['-xOf', archive, 'manifest.json'])).stdout);
    expect(manifest.database).toEqual({
      present: false,
      reason: expect.stringContaining('no SQLite database'),
    });
  });
});

describe('--include-chain-data', () => {
  it("takes a node's data folder only when asked, and restores it byte for byte", async () => {
    // Given a node with chain data in the workspace (the one-machine case)
    const { root, dir } = await aWorkspace();
    const block = randomBytes(100_000);
    await mkdir(join(dir, 'nodes/peruri/data/database'), { recursive: true });
    await writeFile(join(dir, 'nodes/peruri/data/database/000005.sst'), block);
    await writeFile(join(dir, 'nodes/peruri/data/DATABASE_METADATA.json'), '{"version":1}\n');

    // When a snapshot is taken without the flag
    const plain = join(root, 'plain.snapshot');
    expect((await runCli(['snapshot', '--dir', dir, '--out', plain], withPassphrase)).exitCode).toBe(0);
    // Then no chain data is in it
    expect((await execa('tar', ['-tf', plain])).stdout).not.toContain('/data/');

    // When it is taken with the flag
    const full = join(root, 'full.snapshot');
    const run = await runCli(
      ['snapshot', '--dir', dir, '--out', full, '--include-chain-data', '--json'],
      withPassphrase,
    );
    const document = JSON.parse(run.stdout) as { result: { chainData: string[] }; warnings: string[] };
    // Then the node's data is in it, and the nodes without data here are named
    expect(document.result.chainData).toEqual(['peruri']);
    expect(document.warnings.join('\n')).toContain('Node tx: no data in nodes/tx/data');
    expect((await execa('tar', ['-tf', full])).stdout).toContain(
      'files/nodes/peruri/data/database/000005.sst',
    );

    // And a restore gives the data back byte for byte, in a workspace that validates
    const restoredDir = join(root, 'restored');
    const restored = await restoreJson(full, restoredDir);
    expect(restored.result.chainData).toEqual(['peruri']);
    expect((await readFile(join(restoredDir, 'nodes/peruri/data/database/000005.sst'))).equals(block)).toBe(
      true,
    );
    expect(await readFile(join(restoredDir, 'nodes/peruri/data/DATABASE_METADATA.json'), 'utf8')).toBe(
      '{"version":1}\n',
    );
    expect((await runCli(['validate', '--dir', restoredDir])).exitCode).toBe(0);
  }, 90_000); // four CLI runs with scrypt: about 8 s alone, far more on a loaded machine

  it('says in --help that remote nodes’ data is not reachable yet', async () => {
    const help = await runCli(['snapshot', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain("remote nodes' data is not reachable yet");
  });
});
