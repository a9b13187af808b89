import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { onTestFinished } from 'vitest';
import { parse, stringify } from 'yaml';
import { deployWorkspaceContracts } from '../../src/core/contracts/deploy-workspace.js';
import { initWorkspace } from '../../src/core/workspace/init.js';
import { startAnvil, type AnvilNode } from './anvil.js';
import { aTempDir } from './temp-dir.js';
import {
  runDaemonInProcess,
  startDaemonProcess,
  type DaemonProcess,
  type InProcessDaemon,
} from './daemon-runners.js';

/** The local example's chain id. */
const CHAIN_ID = 1337;

export interface MirrorStackOptions {
  /** Seconds between blocks (default 1). */
  blockTime?: number;
  /** Overrides of the adapter configuration's `mirror` section. */
  mirror?: Record<string, unknown>;
}

/** A local workspace whose contracts are deployed on a real anvil, and its adapter's settings. */
export interface MirrorStack {
  dir: string;
  config: string;
  env: Record<string, string>;
  chain: AnvilNode;
  contracts: { pointsToken: string; badges: string; activityLog: string };
  /** A token the adapter accepts (subject php-backend, 10 minutes). */
  token(): Promise<string>;
  /** Stops the chain node (as an outage) and starts it again on the same port with `restartChain`. */
  stopChain(): Promise<void>;
  restartChain(): Promise<void>;
}

/**
 * Makes a workspace of the `local` example, starts anvil with its chain id, deploys the contracts
 * and points the adapter configuration at them (any free port, quick batches).
 * @param options - block time and mirror settings
 */
export async function aMirrorStack(options: MirrorStackOptions = {}): Promise<MirrorStack> {
  const dir = join(await aTempDir('peruri-mirror-'), 'ws');
  await initWorkspace({ dir, spec: { example: 'local' }, password: undefined, force: false });
  const anvilOptions = {
    chainId: CHAIN_ID,
    blockTime: options.blockTime ?? 1,
    gasLimit: 1_000_000_000,
    statePath: join(dir, '..', 'anvil-state.json'),
  };
  let chain = await startAnvil(anvilOptions);
  const port = Number(new URL(chain.url).port);
  onTestFinished(() => chain.stop());
  const deployed = await deployWorkspaceContracts({ dir, rpcUrl: chain.url, password: undefined });
  const address = (name: string) => deployed.contracts.find((contract) => contract.name === name)!.address;
  const config = join(dir, 'service/adapter.yaml');
  const adapter = parse(await readFile(config, 'utf8')) as Record<string, Record<string, unknown>>;
  adapter.rpcUrl = chain.url as never;
  adapter.listen = { host: '127.0.0.1', port: 0 };
  adapter.http = { ...adapter.http, shutdownTimeoutMs: 5_000 };
  adapter.mirror = { batchIntervalMs: 300, pollIntervalMs: 100, ...options.mirror };
  adapter.log = { level: process.env.MIRROR_LOG ?? 'warn' };
  await writeFile(config, stringify(adapter));
  const jwtSecret = randomBytes(32).toString('hex');
  const env = {
    PERURI_CHAIN_KEYSTORE_PASSWORD: (
      await readFile(join(dir, 'secrets/dev-keystore-password'), 'utf8')
    ).trim(),
    PERURI_CHAIN_ADAPTER_JWT_SECRET: jwtSecret,
  };
  const audience = String((adapter.auth!.jwt as { audience: string }).audience);
  return {
    dir,
    config,
    env,
    get chain() {
      return chain;
    },
    contracts: {
      pointsToken: address('PointsToken'),
      badges: address('Badges'),
      activityLog: address('ActivityLog'),
    },
    token: () =>
      new SignJWT({ sub: 'php-backend', aud: audience })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(jwtSecret)),
    stopChain: () => chain.stop(),
    // anvil writes its state file when stopped and loads it when started: blocks, logs and all.
    restartChain: async () => {
      chain = await startAnvil({ ...anvilOptions, port });
    },
  };
}

/** A daemon running in this process, stopped when the test finishes. */
export type InProcessAdapter = InProcessDaemon;

export function startAdapterInProcess(stack: MirrorStack): Promise<InProcessAdapter> {
  return runDaemonInProcess(stack.config, stack.env);
}

/** The adapter as a child process (`adapter start`), for crash tests. */
export type AdapterProcess = DaemonProcess;

export function startAdapterProcess(stack: MirrorStack): Promise<AdapterProcess> {
  return startDaemonProcess(stack.config, stack.env);
}
