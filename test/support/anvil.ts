import { spawn, type ChildProcess } from 'node:child_process';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { anvilBinary } from '../../src/core/local/anvil.js';
import { freePort } from './net.js';

/** Options of {@link startAnvil}. */
export interface StartAnvilOptions {
  chainId: number;
  /** Seconds between blocks; without it every transaction is mined at once. */
  blockTime?: number;
  /** The EVM; London by default, as the network's genesis. */
  hardfork?: 'london' | 'shanghai' | 'cancun' | 'prague';
  /** The block gas limit (anvil's default is 30,000,000). */
  gasLimit?: number;
  /** A state file anvil loads at start and writes at exit (`--state`), to restart a chain as it was. */
  statePath?: string;
  /** A port to bind instead of a free one (to restart a node where it was). */
  port?: number;
  /** How long to wait for the first answer to eth_chainId (default 10,000 ms). */
  readyTimeoutMs?: number;
  /** No block unless asked for (`evm_mine`): for a caller that decides when blocks are made. */
  noMining?: boolean;
}

/** A funded development account of the running node (test fixture keys, never real ones). */
export interface AnvilAccount {
  address: string;
  privateKey: string;
}

/** A running anvil process. */
export interface AnvilNode {
  url: string;
  chainId: number;
  pid: number;
  accounts: AnvilAccount[];
  /** Kills the process and resolves once it has exited. */
  stop(): Promise<void>;
}

// anvil's documented default mnemonic; the accounts it derives are public test fixtures.
const DEFAULT_MNEMONIC = 'test test test test test test test test test test test junk';
const ACCOUNT_COUNT = 10;

/**
 * Starts anvil on a free loopback port and waits until it answers JSON-RPC.
 * @param options - chain id, block time, hardfork
 * @returns the running node; call `stop()` in the test's cleanup
 */
export async function startAnvil(options: StartAnvilOptions): Promise<AnvilNode> {
  // The port is free when picked but could be taken before anvil binds it (parallel test files):
  // anvil then exits at once and another port is tried.
  if (options.port !== undefined) return launch(options.port, options);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await launch(port, options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function launch(port: number, options: StartAnvilOptions): Promise<AnvilNode> {
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--chain-id',
    String(options.chainId),
    '--hardfork',
    options.hardfork ?? 'london',
    '--gas-price',
    '0',
    '--base-fee',
    '0',
    '--accounts',
    String(ACCOUNT_COUNT),
    '--mnemonic',
    DEFAULT_MNEMONIC,
  ];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  if (options.gasLimit !== undefined) args.push('--gas-limit', String(options.gasLimit));
  if (options.statePath !== undefined) args.push('--state', options.statePath);
  if (options.noMining) args.push('--no-mining');
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Output must be drained or anvil blocks on a full pipe; the tail explains a failed start.
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Only failures before readiness matter here; later ones must not become unhandled rejections.
  let ready = false;
  const spawnFailed = new Promise<void>((resolve, reject) =>
    child.once('error', (error) => (ready ? resolve() : reject(error))),
  );
  const exitedEarly = exited.then((code) => {
    if (ready) return;
    const message = `anvil exited with code ${code} before it was ready:\n${tail}`;
    throw /address already in use/i.test(tail) ? new PortTakenError(message) : new Error(message);
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  try {
    await Promise.race([
      spawnFailed,
      exitedEarly,
      waitForChainId(
        url,
        options.chainId,
        deadline,
        () => tail,
        () => ready,
      ),
    ]);
    ready = true;
  } catch (error) {
    ready = true;
    await kill(child, exited);
    throw error;
  }

  return {
    url,
    chainId: options.chainId,
    pid: child.pid!,
    accounts: deriveAccounts(),
    stop: () => kill(child, exited),
  };
}

async function waitForChainId(
  url: string,
  chainId: number,
  deadline: number,
  tail: () => string,
  settled: () => boolean,
): Promise<void> {
  while (!settled()) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(1_000),
      });
      const { result } = (await response.json()) as { result?: string };
      if (result !== undefined && Number(result) === chainId) return;
      throw new Error(`anvil at ${url} reports chain ${result}, expected ${chainId}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('anvil at')) throw error;
      if (Date.now() > deadline) throw new Error(`anvil at ${url} did not answer in time:\n${tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

async function kill(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

let accounts: AnvilAccount[] | undefined;

function deriveAccounts(): AnvilAccount[] {
  if (!accounts) {
    const mnemonic = Mnemonic.fromPhrase(DEFAULT_MNEMONIC);
    accounts = Array.from({ length: ACCOUNT_COUNT }, (_, i) => {
      const wallet = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
      return { address: wallet.address, privateKey: wallet.privateKey };
    });
  }
  return accounts.map((a) => ({ ...a }));
}
