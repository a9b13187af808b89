import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ErrorCodes, RefusedError } from '../errors.js';

/** Options of {@link anvilArgs}: the chain as the workspace describes it. */
export interface AnvilChainOptions {
  host: string;
  port: number;
  chainId: number;
  /** The genesis block gas limit, so that big batches fit as they would on Besu. */
  gasLimit: bigint;
  /** Seconds between blocks (the workspace's IBFT 2.0 block period). */
  blockTimeSeconds: number;
  /** Where the chain is loaded from at start and saved to while it runs and on SIGTERM. */
  stateFile: string;
  /** Seconds between saves of the state: what a kill -9 can lose at most. */
  stateIntervalSeconds: number;
}

/**
 * The anvil arguments that stand in for the workspace's Besu network: its chain id and block
 * period, London (what the genesis and the contracts are built for), free gas (price and base fee
 * 0, as `zeroBaseFee` and `min-gas-price=0` make Besu), the genesis gas limit, no pre-funded
 * accounts, and the state saved under the workspace so that `down` then `up` keeps the contracts.
 * @param options - address, chain id, gas limit, block time, state file
 * @returns the argument list (no secrets)
 */
export function anvilArgs(options: AnvilChainOptions): string[] {
  return [
    '--host',
    options.host,
    '--port',
    String(options.port),
    '--chain-id',
    String(options.chainId),
    '--block-time',
    String(options.blockTimeSeconds),
    '--hardfork',
    'london',
    '--gas-price',
    '0',
    '--base-fee',
    '0',
    // anvil takes decimal only here.
    '--gas-limit',
    options.gasLimit.toString(10),
    '--state',
    options.stateFile,
    '--state-interval',
    String(options.stateIntervalSeconds),
    // No funded development accounts with well-known keys: the Besu network has none either, and
    // with free gas nobody needs a balance.
    '--accounts',
    '0',
  ];
}

/**
 * The anvil binary of the npm package `@foundry-rs/anvil` (its platform package holds the native
 * program). Spawned directly, not through the package's node wrapper, so the pid is anvil's.
 * @returns the absolute path
 * @throws RefusedError (PC_ENGINE_MISSING) when no anvil build exists for this platform
 */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const executable = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  // The platform package is an optional dependency of @foundry-rs/anvil: look from there as well.
  const lookups = [require];
  try {
    lookups.push(createRequire(require.resolve('@foundry-rs/anvil/package.json')));
  } catch {
    // @foundry-rs/anvil itself is missing: the error below says what to install.
  }
  for (const lookup of lookups) {
    try {
      return join(dirname(lookup.resolve(`${platformPackage}/package.json`)), 'bin', executable);
    } catch {
      // try the next place
    }
  }
  throw new RefusedError(
    ErrorCodes.ENGINE_MISSING,
    `The local EVM node is not installed: no ${platformPackage} package for ${process.platform}/${process.arch}`,
    {
      hint: 'Reinstall peruri-chain with its optional dependencies (npm ci, not --omit=optional), or use --engine besu with Besu on the PATH.',
    },
  );
}
