import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JsonFragment } from 'ethers';
import { BugError } from '../errors.js';

/** The three contracts peruri-chain deploys, in deployment order. */
export const CONTRACT_NAMES = ['PointsToken', 'Badges', 'ActivityLog'] as const;

/** One of {@link CONTRACT_NAMES}. */
export type ContractName = (typeof CONTRACT_NAMES)[number];

/** The solc settings a contract was compiled with (scripts/build-contracts.js pins them). */
export interface SolcSettings {
  evmVersion: string;
  optimizer: { enabled: boolean; runs: number };
  metadata: { bytecodeHash: string };
  outputSelection: Record<string, Record<string, string[]>>;
}

/** A compiled contract as written to contracts/build/<Name>.json by the contracts build. */
export interface ContractArtifact {
  contractName: ContractName;
  sourceName: string;
  abi: JsonFragment[];
  /** Creation code, 0x-prefixed. */
  bytecode: string;
  /** Runtime code, 0x-prefixed; the build refuses immutables, so it equals the code on chain. */
  deployedBytecode: string;
  solcVersion: string;
  settings: SolcSettings;
}

const cache = new Map<ContractName, ContractArtifact>();

/**
 * The directory holding the committed contract artifacts. This module sits three levels below the
 * package root both as src/core/contracts/*.ts (tsx, vitest) and as dist/core/contracts/*.js.
 * @returns the absolute path of contracts/build
 */
export function contractsBuildDir(): string {
  return fileURLToPath(new URL('../../../contracts/build/', import.meta.url));
}

/**
 * Loads one contract artifact (read once, then cached).
 * @param name - the contract
 * @returns its ABI, creation and runtime code, and how it was compiled
 * @example
 * const { abi, bytecode } = loadArtifact('PointsToken');
 */
export function loadArtifact(name: ContractName): ContractArtifact {
  const cached = cache.get(name);
  if (cached) return cached;
  const file = `${contractsBuildDir()}${name}.json`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new BugError(`The contract artifact ${file} cannot be read`, { cause });
  }
  const artifact = checkArtifact(name, file, parsed);
  cache.set(name, artifact);
  return artifact;
}

/**
 * Loads the artifacts of all three contracts.
 * @returns each contract's artifact by name
 */
export function loadArtifacts(): Record<ContractName, ContractArtifact> {
  return {
    PointsToken: loadArtifact('PointsToken'),
    Badges: loadArtifact('Badges'),
    ActivityLog: loadArtifact('ActivityLog'),
  };
}

function checkArtifact(name: ContractName, file: string, value: unknown): ContractArtifact {
  const a = value as Partial<ContractArtifact> | null;
  const hex = (v: unknown): boolean => typeof v === 'string' && /^0x(?:[0-9a-f]{2})+$/.test(v);
  if (
    a === null ||
    typeof a !== 'object' ||
    a.contractName !== name ||
    !Array.isArray(a.abi) ||
    !hex(a.bytecode) ||
    !hex(a.deployedBytecode) ||
    typeof a.solcVersion !== 'string'
  ) {
    throw new BugError(`The contract artifact ${file} is not a build of ${name}`, {
      hint: 'Rebuild it with `node scripts/build-contracts.js`; this is a packaging bug if it happens after install.',
    });
  }
  return a as ContractArtifact;
}
