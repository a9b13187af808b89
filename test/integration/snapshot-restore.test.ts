import { access, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { aTempDir, snapshotTree } from '../support/temp-dir.js';

const PASSPHRASE = 'correct horse battery staple';
const withPassphrase = { env: { PERURI_CHAIN_SNAPSHOT_PASSPHRASE: PASSPHRASE } };

async function aWorkspace(
  root: string,
  name = 'ws',
  args: string[] = ['--example', 'local'],
): Promise<string> {
  const dir = join(root, name);
  const init = await runCli(['init', ...args, '--dir', dir, '--json']);
  expect(init.exitCode, init.stdout).toBe(0);
  return dir;
}

async function aSnapshot(dir: string, out: string, extra: string[] = []): Promise<Record<string, unknown>> {
  const run = await runCli(['snapshot', '--dir', dir, '--out', out, '--json', ...extra], withPassphrase);
  expect(run.exitCode, run.stdout).toBe(0);
  return (JSON.parse(run.stdout) as { result: Record<string, unknown> }).result;
}

async function restore(file: string, dir: string, extra: string[] = []) {
  const run = await runCli(['restore', file, '--dir', dir, '--json', ...extra], withPassphrase);
  const document = JSON.parse(run.stdout) as {
    status: number;
    result?: Record<string, unknown>;
    error?: { code: string; message: string };
  };
  return { exitCode: run.exitCode, ...document };
}

async function absent(path: string): Promise<boolean> {
  return access(path).then(
    () => false,
    () => true,
  );
}

describe('snapshot', () => {
  it('writes one 0600 archive and reports its size, file count, SHA-256 and encrypted count', async () => {
    // Given a workspace
    const root = await aTempDir();
    const dir = await aWorkspace(root);
    // When a snapshot is taken
    const out = join(root, 'backups', 'ws.snapshot');
    const result = await aSnapshot(dir, out);
    // Then the archive is there, private, and the result describes exactly that file
    const bytes = await readFile(out);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(result).toMatchObject({
      path: out,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      network: 'peruri-local',
      chainId: 1337,
      databases: [],
      chainData: [],
    });
    // 4 node keys, 4 account keystores, minter and wallet master keystores, the dev password
    expect(result.encryptedFileCount).toBe(11);
    expect(result.fileCount).toBe(Object.keys(await snapshotTree(dir)).length);
    // And the manifest is readable without the passphrase, by plain tar
    const listed = await execa('tar', ['-xOf', out, 'manifest.json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      format: 'peruri-chain-snapshot',
      formatVersion: 1,
      network: 'peruri-local',
      chainId: 1337,
      secrets: { entry: 'secrets.age', encryption: 'age-scrypt', fileCount: 11 },
    });
  });

  it('refuses without a passphrase, with a short one, and over an existing archive', async () => {
    const root = await aTempDir();
    const dir = await aWorkspace(root);
    const out = join(root, 'ws.snapshot');
    // Given no passphrase: exit 3, nothing written
    const none = await runCli(['snapshot', '--dir', dir, '--out', out]);
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toContain('PERURI_CHAIN_SNAPSHOT_PASSPHRASE');
    // Given a short one from a file: exit 3, and the value is not printed
    await writeFile(join(root, 'short'), 'tooshort\n');
    const short = await runCli([
      'snapshot',
      '--dir',
      dir,
      '--out',
      out,
      '--passphrase-file',
      join(root, 'short'),
    ]);
    expect(short.exitCode).toBe(3);
    expect(short.stderr).toContain('at least 12');
    expect(short.stderr + short.stdout).not.toContain('tooshort');
    expect(await absent(out)).toBe(true);
    // Given an existing archive: exit 5 unless --force
    await writeFile(out, 'an older snapshot');
    const exists = await runCli(['snapshot', '--dir', dir, '--out', out], withPassphrase);
    expect(exists.exitCode).toBe(5);
    expect(await readFile(out, 'utf8')).toBe('an older snapshot');
    await aSnapshot(dir, out, ['--force']);
    expect((await readFile(out)).subarray(0, 13).toString()).toBe('manifest.json');
  });
});

describe('restore', () => {
  it('gives back a byte-identical workspace, modes included, that validates', async () => {
    // Given a workspace and its snapshot
    const root = await aTempDir();
    const dir = await aWorkspace(root);
    const archive = join(root, 'ws.snapshot');
    await aSnapshot(dir, archive);
    const before = await snapshotTree(dir);
    // When the machine is lost and the workspace restored where it was
    await rename(dir, join(root, 'lost'));
    const restored = await restore(archive, dir);
    // Then every file and mode is as before, nothing needed re-rendering, and it validates
    expect(restored.exitCode, JSON.stringify(restored.error)).toBe(0);
    expect(await snapshotTree(dir)).toEqual(before);
    expect(restored.result).toMatchObject({ validated: true, rerendered: [], dryRun: false, chainId: 1337 });
    expect((await runCli(['validate', '--dir', dir])).exitCode).toBe(0);
  });

  it('restores into another folder: keys identical, generated paths re-rendered, valid', async () => {
    // Given a snapshot of a one-machine workspace (its files name the workspace's own path)
    const root = await aTempDir();
    const dir = await aWorkspace(root);
    const archive = join(root, 'ws.snapshot');
    await aSnapshot(dir, archive);
    // When it is restored elsewhere
    const other = join(root, 'elsewhere');
    const restored = await restore(archive, other);
    // Then keys and keystores are byte-identical with their modes, configs point at the new folder
    expect(restored.exitCode, JSON.stringify(restored.error)).toBe(0);
    const [was, now] = [await snapshotTree(dir), await snapshotTree(other)];
    for (const path of [
      'nodes/peruri/key',
      'accounts/deployer.json',
      'service/minter.json',
      'network.yaml',
    ]) {
      expect(now[path], path).toEqual(was[path]);
    }
    expect(now['nodes/peruri/key']!.mode).toBe(0o600);
    expect(now['nodes/peruri/config.toml']!.content).toContain(`${other}/nodes/peruri/data`);
    expect(restored.result!.rerendered).toContain('nodes/peruri/config.toml');
    expect((await runCli(['validate', '--dir', other])).exitCode).toBe(0);
  });

  it('refuses an existing workspace with exit 5 and keeps it; --force archives it', async () => {
    // Given a snapshot and, in the target folder, another workspace of the same chain
    const root = await aTempDir();
    const archive = join(root, 'ws.snapshot');
    await aSnapshot(await aWorkspace(root), archive);
    const target = await aWorkspace(root, 'target');
    const before = await snapshotTree(target);
    // When restoring there without --force
    const refused = await restore(archive, target);
    // Then it is refused and the folder is untouched
    expect(refused.exitCode).toBe(5);
    expect(refused.error!.code).toBe('PC_WORKSPACE_EXISTS');
    expect(await snapshotTree(target)).toEqual(before);
    // When restoring with --force
    const forced = await restore(archive, target, ['--force']);
    // Then the old workspace, keys included, is inside the restored one's .archive/
    expect(forced.exitCode, JSON.stringify(forced.error)).toBe(0);
    const archivedTo = forced.result!.archivedTo as string;
    expect(archivedTo).toMatch(/^\.archive\/\d{4}-\d\d-\d\dT/);
    const oldKey = await readFile(join(target, archivedTo, 'nodes/peruri/key'), 'utf8');
    expect(oldKey).toBe(before['nodes/peruri/key']!.content);
    expect(await readFile(join(target, 'nodes/peruri/key'), 'utf8')).not.toBe(oldKey);
  });

  it('refuses a workspace of another chain id unless --allow-chain-change', async () => {
    // Given a snapshot of chain 1337 and a workspace of chain 4242
    const root = await aTempDir();
    const archive = join(root, 'ws.snapshot');
    await aSnapshot(await aWorkspace(root), archive);
    const spec = (await readFile(join(root, 'ws', 'network.yaml'), 'utf8')).replace(
      'chainId: 1337',
      'chainId: 4242',
    );
    await writeFile(join(root, 'other.yaml'), spec);
    const target = await aWorkspace(root, 'target', ['--spec', join(root, 'other.yaml')]);
    const before = await snapshotTree(target);
    // When restoring there, even with --force
    const refused = await restore(archive, target, ['--force']);
    // Then it is refused naming both chains, and nothing changed
    expect(refused.exitCode).toBe(5);
    expect(refused.error).toMatchObject({
      code: 'PC_CHAIN_MISMATCH',
      message: expect.stringContaining('chain 4242'),
    });
    expect(await snapshotTree(target)).toEqual(before);
    // And with --allow-chain-change it goes ahead
    const allowed = await restore(archive, target, ['--force', '--allow-chain-change']);
    expect(allowed.exitCode, JSON.stringify(allowed.error)).toBe(0);
    expect(allowed.result!.chainId).toBe(1337);
  });

  it('--dry-run checks everything and writes nothing', async () => {
    const root = await aTempDir();
    const archive = join(root, 'ws.snapshot');
    await aSnapshot(await aWorkspace(root), archive);
    const target = join(root, 'new');
    const planned = await restore(archive, target, ['--dry-run']);
    expect(planned.exitCode).toBe(0);
    expect(planned.result).toMatchObject({ dryRun: true, validated: false, fileCount: expect.any(Number) });
    expect(await absent(target)).toBe(true);
    // And a wrong passphrase fails the dry run as it would the real one
    const wrong = await runCli(['restore', archive, '--dir', target, '--dry-run'], {
      env: { PERURI_CHAIN_SNAPSHOT_PASSPHRASE: 'another long passphrase' },
    });
    expect(wrong.exitCode).toBe(3);
  });

  it('--node --host moves a node in network.yaml and re-renders the allowlists', async () => {
    // Given a snapshot of the one-machine network
    const root = await aTempDir();
    const dir = await aWorkspace(root);
    const archive = join(root, 'ws.snapshot');
    await aSnapshot(dir, archive);
    // When it is restored with node tx on another loopback address
    const target = join(root, 'moved');
    const moved = await restore(archive, target, ['--node', 'tx', '--host', '127.0.0.2']);
    // Then only that host changed in network.yaml, every node's allowlist has the new enode, it validates
    expect(moved.exitCode, JSON.stringify(moved.error)).toBe(0);
    expect(moved.result!.movedNode).toEqual({ name: 'tx', from: '127.0.0.1', to: '127.0.0.2' });
    const spec = await readFile(join(target, 'network.yaml'), 'utf8');
    const original = await readFile(join(dir, 'network.yaml'), 'utf8');
    expect(spec.split('\n').filter((line, index) => line !== original.split('\n')[index])).toEqual([
      '    host: 127.0.0.2',
    ]);
    expect(await readFile(join(target, 'nodes/peruri/static-nodes.json'), 'utf8')).toContain(
      '@127.0.0.2:30306',
    );
    expect(moved.result!.rerendered).toContain('nodes/peruri/permissions_config.toml');
    expect((await runCli(['validate', '--dir', target])).exitCode).toBe(0);
  });

  it('--node refuses an unknown node, and a host the spec does not allow, before writing', async () => {
    const root = await aTempDir();
    const archive = join(root, 'ws.snapshot');
    await aSnapshot(await aWorkspace(root), archive);
    const target = join(root, 'moved');
    const unknown = await restore(archive, target, ['--node', 'nope', '--host', '127.0.0.2']);
    expect(unknown.exitCode).toBe(3);
    expect(unknown.error!.message).toContain('--node: expected one of peruri, pds, nota, tx, found "nope"');
    // A relative installDir keeps every node on this machine: a remote host is refused by the spec
    const remote = await restore(archive, target, ['--node', 'tx', '--host', '10.0.0.9']);
    expect(remote.exitCode).toBe(3);
    expect(remote.error!.code).toBe('PC_SPEC_INVALID');
    expect(await absent(target)).toBe(true);
    // And --node alone is a usage error
    expect((await runCli(['restore', archive, '--dir', target, '--node', 'tx'])).exitCode).toBe(2);
  });
});
