import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, InputError, RefusedError } from '../errors.js';
import { nodeDirOnMachine } from '../render/paths.js';
import type { NetworkSpec } from '../spec/types.js';
import { anvilArgs, anvilBinary } from './anvil.js';
import { besuArgs, findBesu } from './besu.js';
import { CHAIN_STATE_FILE, LOCAL_DIR, type LocalEngine } from './state.js';

/** One process of the local chain, ready to be spawned. */
export interface ChainLaunch {
  /** `anvil` or `besu-<node>`. */
  name: string;
  file: string;
  args: string[];
  /** Workspace-relative. */
  logFile: string;
}

/** How the local chain is run and when it counts as ready. */
export interface LocalChainPlan {
  engine: LocalEngine;
  /** The endpoint the adapter uses (adapter.yaml rpcUrl): the chain is served there. */
  rpcUrl: string;
  launches: ChainLaunch[];
  /** The chain is ready once the endpoint reports the chain id and at least this block. */
  minBlockNumber: number;
  readyTimeoutMs: number;
  /** How long SIGTERM may take before SIGKILL (anvil saves its state on SIGTERM). */
  stopGraceMs: number;
}

/** Options of {@link planLocalChain}. */
export interface PlanLocalChainOptions {
  /** The workspace, absolute. */
  dir: string;
  spec: NetworkSpec;
  engine: LocalEngine;
  /** The adapter's rpcUrl: a loopback http URL with a port. */
  rpcUrl: string;
  /** Where `besu` is looked for (default: this process's PATH). */
  pathVariable?: string;
}

/** Seconds between anvil's state saves: what a kill -9 of the chain loses at most. */
export const ANVIL_STATE_INTERVAL_SECONDS = 5;

/**
 * Plans the local chain: one anvil standing in for the network on the adapter's RPC address, or
 * with `besu` every node of the workspace as a local Besu process with its rendered config.toml.
 * @param options - workspace, spec, engine, the adapter's RPC URL
 * @returns the processes to start and the readiness rule
 * @throws RefusedError (PC_ENGINE_MISSING) when the engine's program is missing, or for Besu when
 *   the node configurations point outside the workspace; InputError for an unusable genesis
 */
export async function planLocalChain(options: PlanLocalChainOptions): Promise<LocalChainPlan> {
  const { dir, spec, rpcUrl } = options;
  if (options.engine === 'besu') {
    const besu = await findBesu(options.pathVariable);
    for (const node of spec.nodes) {
      const onMachine = nodeDirOnMachine(spec, dir, node.name);
      if (onMachine !== join(dir, 'nodes', node.name)) {
        throw new RefusedError(
          ErrorCodes.NOT_ONE_MACHINE,
          `The Besu configuration of node ${node.name} points to ${onMachine}, not into the workspace ${dir}`,
          {
            hint: 'Set installDir: . in network.yaml and run `peruri-chain render`, or run the nodes with `deploy`.',
          },
        );
      }
    }
    return {
      engine: 'besu',
      rpcUrl,
      launches: spec.nodes.map((node) => ({
        name: `besu-${node.name}`,
        file: besu,
        args: besuArgs(join(dir, 'nodes', node.name, 'config.toml')),
        logFile: `${LOCAL_DIR}/besu-${node.name}.log`,
      })),
      // IBFT 2.0 makes a block only once a quorum of validators is up and connected.
      minBlockNumber: 1,
      readyTimeoutMs: 180_000,
      stopGraceMs: 30_000,
    };
  }
  const url = new URL(rpcUrl);
  return {
    engine: 'anvil',
    rpcUrl,
    launches: [
      {
        name: 'anvil',
        file: anvilBinary(),
        args: anvilArgs({
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
          chainId: spec.chainId,
          gasLimit: await genesisGasLimit(dir),
          blockTimeSeconds: spec.consensus.blockPeriodSeconds,
          stateFile: join(dir, CHAIN_STATE_FILE),
          stateIntervalSeconds: ANVIL_STATE_INTERVAL_SECONDS,
        }),
        logFile: `${LOCAL_DIR}/anvil.log`,
      },
    ],
    minBlockNumber: 0,
    readyTimeoutMs: 15_000,
    stopGraceMs: 15_000,
  };
}

async function genesisGasLimit(dir: string): Promise<bigint> {
  try {
    const genesis = JSON.parse(await readFile(join(dir, 'genesis.json'), 'utf8')) as { gasLimit?: unknown };
    if (typeof genesis.gasLimit === 'string' || typeof genesis.gasLimit === 'number') {
      return BigInt(genesis.gasLimit);
    }
  } catch (cause) {
    throw new InputError(ErrorCodes.WORKSPACE_INVALID, `${dir}/genesis.json cannot be read`, {
      hint: 'Run `peruri-chain render` to write it again.',
      cause,
    });
  }
  throw new InputError(ErrorCodes.WORKSPACE_INVALID, `${dir}/genesis.json has no gasLimit`, {
    hint: 'Run `peruri-chain render` to write it again.',
  });
}
