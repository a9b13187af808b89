import { readFileSync } from 'node:fs';
import { packagePath } from '../package-paths.js';
import type { NetworkSpec } from '../spec/types.js';
import { encodeGenesisExtraData } from './extra-data.js';

/** The genesis file Besu reads, as a typed object; key order here is the file's key order. */
export interface Ibft2Genesis {
  config: Record<string, unknown> & {
    chainId: number;
    ibft2: { blockperiodseconds: number; epochlength: number; requesttimeoutseconds: number };
  };
  nonce: string;
  timestamp: string;
  gasLimit: string;
  difficulty: string;
  mixHash: string;
  coinbase: string;
  baseFeePerGas: string;
  extraData: string;
  alloc: Record<string, { balance: string }>;
}

interface GenesisDefaults {
  config: Record<string, unknown>;
  nonce: string;
  timestamp: string;
  difficulty: string;
  mixHash: string;
  coinbase: string;
  baseFeePerGas: string;
  alloc: Record<string, { balance: string }>;
}

let defaults: GenesisDefaults | undefined;

function genesisDefaults(): GenesisDefaults {
  defaults ??= JSON.parse(
    readFileSync(packagePath('genesis', 'ibft2.defaults.json'), 'utf8'),
  ) as GenesisDefaults;
  return defaults;
}

/**
 * Sorts validator addresses ascending by their bytes, the order Besu's VoteTally keeps and
 * requires in every block after genesis.
 * @param addresses - 0x-hex addresses in any case
 * @returns lowercase addresses, sorted
 */
export function sortValidators(addresses: readonly string[]): string[] {
  return addresses.map((address) => address.toLowerCase()).sort();
}

/**
 * Builds the IBFT 2.0 genesis of a network.
 * @param spec - the validated network spec
 * @param validatorAddresses - the validators' addresses (any order; they are sorted)
 * @returns the genesis object, ready for `JSON.stringify`
 * @example
 * const genesis = buildGenesis(spec, identities.map((identity) => identity.address));
 */
export function buildGenesis(spec: NetworkSpec, validatorAddresses: readonly string[]): Ibft2Genesis {
  const base = genesisDefaults();
  return {
    config: {
      chainId: spec.chainId,
      ...base.config,
      ibft2: {
        blockperiodseconds: spec.consensus.blockPeriodSeconds,
        epochlength: spec.consensus.epochLength,
        requesttimeoutseconds: spec.consensus.requestTimeoutSeconds,
      },
    },
    nonce: base.nonce,
    timestamp: base.timestamp,
    gasLimit: `0x${spec.gas.blockGasLimit.toString(16)}`,
    difficulty: base.difficulty,
    mixHash: base.mixHash,
    coinbase: base.coinbase,
    baseFeePerGas: base.baseFeePerGas,
    extraData: encodeGenesisExtraData(sortValidators(validatorAddresses)),
    alloc: { ...base.alloc },
  };
}
