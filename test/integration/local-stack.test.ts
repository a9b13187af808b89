import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { execa } from 'execa';
import { expect, it, onTestFinished } from 'vitest';
import { resultSchemas } from '../../src/cli/result-schemas.js';
import { planLocalChain } from '../../src/core/local/chain.js';
import type { UpLocalStackResult } from '../../src/core/local/up.js';
import type { StopStackResult } from '../../src/core/local/down.js';
import { readWorkspace } from '../../src/core/workspace/read.js';
import { startAnvil } from '../support/anvil.js';
import { CLI, runCli } from '../support/cli.js';
import { aLocalWorkspace, anvilMissing, pidRuns, rpc } from '../support/local-stack.js';
import { describeRequiring } from '../support/requirement.js';
import { aTempDir } from '../support/temp-dir.js';

// Runs the built CLI (`npm test` builds first) with a real anvil and a real adapter process.

const ajv = new Ajv({ allErrors: true, strict: false });

interface Envelope<T> {
  status: number;
  result: T;
  error?: { code: string; message: string; hint?: string; details: string[] };
  warnings: string[];
}

async function up(dir: string, ...extra: string[]): Promise<Envelope<UpLocalStackResult>> {
  const run = await runCli(['up', '--dir', dir, '--json', ...extra]);
  return JSON.parse(run.stdout) as Envelope<UpLocalStackResult>;
}

async function down(dir: string): Promise<Envelope<StopStackResult>> {
  const run = await runCli(['down', '--dir', dir, '--json']);
  expect(run.exitCode, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Envelope<StopStackResult>;
}

const pidOf = (result: UpLocalStackResult, name: string) =>
  result.processes.find((p) => p.name === name)!.pid;
const statusOf = (result: UpLocalStackResult, name: string) =>
  result.processes.find((p) => p.name === name)!.status;

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describeRequiring('up and down with anvil', 'anvil from @foundry-rs/anvil', anvilMissing(), () => {
  it('up --json starts chain, contracts and adapter; everything answers; a re-run keeps it all', async () => {
    // Given a fresh local workspace
    const ws = await aLocalWorkspace();

    // When up runs
    const first = await up(ws.dir);

    // Then the result has the published shape and everything was started
    expect(first.status, JSON.stringify(first.error)).toBe(0);
    expect(ajv.validate(resultSchemas.up!, first.result), ajv.errorsText()).toBe(true);
    const result = first.result;
    expect(result).toMatchObject({
      adapterUrl: ws.adapterUrl,
      rpcUrl: ws.rpcUrl,
      engine: 'anvil',
      chainId: 1337,
    });
    expect(result.processes.map((p) => [p.name, p.status])).toEqual([
      ['anvil', 'started'],
      ['adapter', 'started'],
    ]);
    expect(result.transactionsSent).toBeGreaterThan(0);
    // the adapter is ready, with the token up printed
    const auth = { authorization: `Bearer ${result.token}` };
    expect((await fetch(`${ws.adapterUrl}/ready`, { headers: auth })).status).toBe(200);
    const wallet = await fetch(`${ws.adapterUrl}/wallet/status?userId=user-1`, { headers: auth });
    expect(wallet.status).toBe(200);
    expect((await fetch(`${ws.adapterUrl}/wallet/status?userId=user-1`)).status).toBe(401);
    // the contracts have code on the chain, which has the workspace's chain id and free gas
    for (const address of Object.values(result.contracts)) {
      expect(await rpc(ws.rpcUrl, 'eth_getCode', [address, 'latest'])).not.toBe('0x');
    }
    expect(Number(await rpc(ws.rpcUrl, 'eth_chainId'))).toBe(1337);
    const block = (await rpc(ws.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as Record<string, string>;
    expect(Number(block.baseFeePerGas)).toBe(0);
    expect(block.gasLimit).toBe('0x5f5e100');
    // the adapter reads the deployments where its configuration says
    const published = JSON.parse(await readFile(join(ws.dir, 'service/deployments.json'), 'utf8')) as {
      contracts: Record<string, { address: string }>;
    };
    expect(published.contracts.PointsToken!.address).toBe(result.contracts.PointsToken);
    // the JWT secret is private, the logs are there
    expect((await stat(join(ws.dir, '.local/jwt-secret'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(ws.dir, '.local'))).mode & 0o777).toBe(0o700);
    expect(await readFile(join(ws.dir, '.local/adapter.log'), 'utf8')).not.toContain(result.token!);

    // When up runs again
    const second = await up(ws.dir);

    // Then it keeps the same processes and sends nothing
    expect(second.status).toBe(0);
    expect(second.result.processes.map((p) => [p.name, p.pid, p.status])).toEqual([
      ['anvil', pidOf(result, 'anvil'), 'kept'],
      ['adapter', pidOf(result, 'adapter'), 'kept'],
    ]);
    expect(second.result.transactionsSent).toBe(0);
    expect(second.result.contracts).toEqual(result.contracts);
    // and a token from an earlier run still works (the secret is kept)
    expect((await fetch(`${ws.adapterUrl}/ready`, { headers: auth })).status).toBe(200);
  }, 90_000);

  it('restarts only a killed adapter; down stops all and frees the ports; down twice is fine; up again keeps the contracts', async () => {
    // Given a running stack whose adapter was killed
    const ws = await aLocalWorkspace();
    const first = (await up(ws.dir)).result;
    const adapterPid = pidOf(first, 'adapter');
    process.kill(adapterPid, 'SIGKILL');
    await waitUntil(async () => !(await pidRuns(adapterPid)));

    // When up runs again
    const second = await up(ws.dir);

    // Then only the adapter was started again
    expect(second.status, JSON.stringify(second.error)).toBe(0);
    expect(statusOf(second.result, 'anvil')).toBe('kept');
    expect(pidOf(second.result, 'anvil')).toBe(pidOf(first, 'anvil'));
    expect(statusOf(second.result, 'adapter')).toBe('started');
    expect(pidOf(second.result, 'adapter')).not.toBe(adapterPid);

    // When down runs
    const stopped = await down(ws.dir);

    // Then the adapter was stopped first, then the chain; nothing runs and the ports are free
    expect(ajv.validate(resultSchemas.down!, stopped.result), ajv.errorsText()).toBe(true);
    expect(stopped.result.processes.map((p) => [p.name, p.outcome])).toEqual([
      ['adapter', 'stopped'],
      ['anvil', 'stopped'],
    ]);
    for (const p of second.result.processes) expect(await pidRuns(p.pid)).toBe(false);
    expect(await portIsFree(Number(new URL(ws.rpcUrl).port))).toBe(true);
    expect(await portIsFree(Number(new URL(ws.adapterUrl).port))).toBe(true);
    await expect(stat(join(ws.dir, '.local/stack.json'))).rejects.toThrow();

    // When down runs again
    const again = await runCli(['down', '--dir', ws.dir]);

    // Then it says so and succeeds
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('Nothing to stop');

    // When up runs after down
    const third = await up(ws.dir);

    // Then the chain came back with its saved state: the same contracts, verified, none sent
    expect(third.status, JSON.stringify(third.error)).toBe(0);
    expect(third.result.transactionsSent).toBe(0);
    expect(third.result.contracts).toEqual(first.contracts);
    expect(third.result.processes.every((p) => p.status === 'started')).toBe(true);
  }, 120_000);

  it('refuses a chain that lost the recorded contracts; --reset-chain archives the old one and starts afresh', async () => {
    // Given a stack whose chain was killed -9 before it saved its state (the saved state is gone)
    const ws = await aLocalWorkspace();
    const first = (await up(ws.dir)).result;
    process.kill(pidOf(first, 'anvil'), 'SIGKILL');
    await waitUntil(async () => !(await pidRuns(pidOf(first, 'anvil'))));
    await rm(join(ws.dir, '.local/chain-state.json'), { force: true });

    // When up runs
    const refused = await runCli(['up', '--dir', ws.dir, '--json']);

    // Then it refuses with a hint, and stops the chain it started for the check
    expect(refused.exitCode).toBe(5);
    const error = (JSON.parse(refused.stdout) as Envelope<never>).error!;
    expect(error.code).toBe('PC_LOCAL_CHAIN_LOST');
    expect(error.hint).toContain('--reset-chain');
    expect(error.details).toHaveLength(3);
    const state = JSON.parse(await readFile(join(ws.dir, '.local/stack.json'), 'utf8')) as {
      processes: { name: string }[];
    };
    expect(state.processes.map((p) => p.name)).toEqual(['adapter']);
    expect(await portIsFree(Number(new URL(ws.rpcUrl).port))).toBe(true);

    // When up runs with --reset-chain
    const reset = await up(ws.dir, '--reset-chain');

    // Then the old chain's files are archived and new contracts deployed
    expect(reset.status, JSON.stringify(reset.error)).toBe(0);
    expect(reset.result.archivedTo).toMatch(/^\.archive\/.+-local-chain$/);
    expect(reset.result.transactionsSent).toBeGreaterThan(0);
    expect(reset.result.processes.every((p) => p.status === 'started')).toBe(true);
    await stat(join(ws.dir, reset.result.archivedTo!, 'deployments.json'));
    await stat(join(ws.dir, reset.result.archivedTo!, 'service/adapter.db'));
  }, 120_000);

  it('an interrupted up (SIGINT) stops what it started and exits 130', async () => {
    // Given up running on a fresh workspace
    const ws = await aLocalWorkspace();
    const child = execa('node', [CLI, 'up', '--dir', ws.dir, '--json'], {
      reject: false,
      env: { CI: '', PERURI_CHAIN_KEYSTORE_PASSWORD: '' },
      extendEnv: true,
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    // When it is interrupted once the chain is recorded
    const stackFile = join(ws.dir, '.local/stack.json');
    await waitUntil(
      () =>
        stat(stackFile).then(
          () => true,
          () => false,
        ),
      20_000,
    );
    const recorded = JSON.parse(await readFile(stackFile, 'utf8')) as { processes: { pid: number }[] };
    child.kill('SIGINT');
    const finished = await child;

    // Then it exits 130 and nothing it started is left running or recorded
    expect(finished.exitCode).toBe(130);
    expect((JSON.parse(String(finished.stdout)) as Envelope<never>).error!.code).toBe('PC_INTERRUPTED');
    for (const p of recorded.processes) expect(await pidRuns(p.pid)).toBe(false);
    await expect(stat(stackFile)).rejects.toThrow();
  }, 60_000);

  it('refuses a port that something else serves, and a Besu that exits, leaving nothing running', async () => {
    // Given another node already serving the workspace's RPC port
    const foreign = await startAnvil({ chainId: 31337 });
    onTestFinished(() => foreign.stop());
    const ws = await aLocalWorkspace({ rpcPort: Number(new URL(foreign.url).port) });

    // When up runs
    const taken = await runCli(['up', '--dir', ws.dir, '--json']);

    // Then it refuses (exit 5) and the foreign node is untouched
    expect(taken.exitCode).toBe(5);
    expect((JSON.parse(taken.stdout) as Envelope<never>).error!.code).toBe('PC_PORT_IN_USE');
    expect(await pidRuns(foreign.pid)).toBe(true);

    // Given a workspace and a `besu` on the PATH that fails at once
    const other = await aLocalWorkspace();
    const bin = await aTempDir('peruri-fake-besu-');
    await writeFile(join(bin, 'besu'), '#!/bin/sh\necho "fake besu: $*"\necho "no Java here" >&2\nexit 3\n');
    await chmod(join(bin, 'besu'), 0o755);

    // When up --engine besu runs
    const failed = await runCli(['up', '--dir', other.dir, '--engine', 'besu', '--json'], {
      env: { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` },
    });

    // Then it fails as a remote step (exit 4) with the log's tail, and nothing stays recorded
    expect(failed.exitCode).toBe(4);
    const error = (JSON.parse(failed.stdout) as Envelope<never>).error!;
    expect(error.code).toBe('PC_LOCAL_START_FAILED');
    expect(error.details.join('\n')).toContain('no Java here');
    expect(error.details.join('\n')).toContain(`--config-file=${join(other.dir, 'nodes')}`);
    await expect(stat(join(other.dir, '.local/stack.json'))).rejects.toThrow();
  }, 60_000);
});

it('up refuses without a workspace, on a network of several machines, and --engine besu without besu', async () => {
  // Given no workspace
  const root = await aTempDir();

  // When up runs, then it refuses with a hint to run init
  const none = await runCli(['up', '--dir', join(root, 'nothing'), '--json']);
  expect(none.exitCode).toBe(5);
  const noneError = (JSON.parse(none.stdout) as Envelope<never>).error!;
  expect(noneError.code).toBe('PC_WORKSPACE_INVALID');
  expect(noneError.hint).toContain('init --example local');

  // Given the pilot: machines elsewhere
  const pilot = join(root, 'pilot');
  const init = await runCli(['init', '--example', 'pilot', '--dir', pilot, '--json'], {
    env: { PERURI_CHAIN_KEYSTORE_PASSWORD: 'a long enough operator password' },
  });
  expect(init.exitCode, init.stderr).toBe(0);

  // When up runs, then it refuses, naming the machines
  const remote = await runCli(['up', '--dir', pilot, '--json']);
  expect(remote.exitCode).toBe(5);
  const remoteError = (JSON.parse(remote.stdout) as Envelope<never>).error!;
  expect(remoteError.code).toBe('PC_NOT_ONE_MACHINE');
  expect(remoteError.details.length).toBeGreaterThan(0);
  await expect(stat(join(pilot, '.local'))).rejects.toThrow();

  // Given a local workspace and a PATH without besu
  const local = join(root, 'local');
  expect((await runCli(['init', '--example', 'local', '--dir', local, '--json'])).exitCode).toBe(0);

  // When up --engine besu runs, then it refuses before starting anything
  const besu = await runCli(['up', '--dir', local, '--engine', 'besu', '--json'], {
    env: { PATH: `${dirname(process.execPath)}:/nonexistent` },
  });
  expect(besu.exitCode).toBe(5);
  const besuError = (JSON.parse(besu.stdout) as Envelope<never>).error!;
  expect(besuError.code).toBe('PC_ENGINE_MISSING');
  expect(besuError.hint).toContain('PATH');
  await expect(stat(join(local, '.local/stack.json'))).rejects.toThrow();
}, 60_000);

it('plans one Besu process per node with its own config.toml, ready once blocks are made', async () => {
  // Given a local workspace and an executable named besu on a PATH
  const root = await aTempDir();
  const dir = join(root, 'ws');
  expect((await runCli(['init', '--example', 'local', '--dir', dir, '--json'])).exitCode).toBe(0);
  const bin = join(root, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'besu'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const { spec } = await readWorkspace(dir);

  // When the chain is planned for Besu
  const plan = await planLocalChain({
    dir,
    spec,
    engine: 'besu',
    rpcUrl: 'http://127.0.0.1:8548',
    pathVariable: `/nonexistent:${bin}`,
  });

  // Then every node runs from its rendered config.toml, and readiness needs a block
  expect(plan.launches).toEqual(
    ['peruri', 'pds', 'nota', 'tx'].map((name) => ({
      name: `besu-${name}`,
      file: join(bin, 'besu'),
      args: [`--config-file=${join(dir, 'nodes', name, 'config.toml')}`],
      logFile: `.local/besu-${name}.log`,
    })),
  );
  expect(plan.minBlockNumber).toBe(1);
  // and the config files exist where the arguments point
  for (const launch of plan.launches) await stat(launch.args[0]!.slice('--config-file='.length));
});
