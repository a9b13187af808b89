import { InputError, ErrorCodes } from '../errors.js';
import { CONTRACT_NAMES, type ContractName } from './artifacts.js';

/** JSON values a constructor argument can take in a record (addresses are checksummed strings). */
export type ConstructorArg = string | number | string[];

/** What the workspace remembers about one deployed contract. */
export interface DeploymentEntry {
  address: string;
  txHash: string;
  blockNumber: number;
  /** keccak256 of the runtime code at `address`, 0x-prefixed. */
  bytecodeHash: string;
  constructorArgs: ConstructorArg[];
}

/** The content of a workspace's deployments.json; contracts not yet deployed are absent. */
export interface DeploymentsRecord {
  chainId: number;
  contracts: Partial<Record<ContractName, DeploymentEntry>>;
}

/**
 * Checks parsed deployments.json content and returns it typed, with contracts in a stable order.
 * @param value - the parsed JSON
 * @param source - where it came from, for the error message (a file path)
 * @returns the record
 * @example
 * const previous = parseDeploymentsRecord(JSON.parse(text), 'deployments.json');
 */
export function parseDeploymentsRecord(value: unknown, source = 'deployments.json'): DeploymentsRecord {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) {
    throw invalid(source, ['(root): expected an object']);
  }
  const { chainId, contracts } = value;
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0) {
    problems.push(`chainId: expected a positive integer, found ${JSON.stringify(chainId)}`);
  }
  const result: DeploymentsRecord['contracts'] = {};
  if (!isObject(contracts)) {
    problems.push('contracts: expected an object');
  } else {
    for (const key of Object.keys(contracts)) {
      if (!(CONTRACT_NAMES as readonly string[]).includes(key)) {
        problems.push(`contracts.${key}: unknown contract; expected one of ${CONTRACT_NAMES.join(', ')}`);
      }
    }
    for (const name of CONTRACT_NAMES) {
      const entry = contracts[name];
      if (entry === undefined) continue;
      const at = `contracts.${name}`;
      if (!isObject(entry)) {
        problems.push(`${at}: expected an object`);
        continue;
      }
      const before = problems.length;
      if (typeof entry.address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(entry.address)) {
        problems.push(`${at}.address: expected a 20-byte hex address`);
      }
      if (typeof entry.txHash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(entry.txHash)) {
        problems.push(`${at}.txHash: expected a 32-byte hex hash`);
      }
      if (typeof entry.bytecodeHash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(entry.bytecodeHash)) {
        problems.push(`${at}.bytecodeHash: expected a 32-byte hex hash`);
      }
      if (
        typeof entry.blockNumber !== 'number' ||
        !Number.isSafeInteger(entry.blockNumber) ||
        entry.blockNumber < 0
      ) {
        problems.push(`${at}.blockNumber: expected a non-negative integer`);
      }
      if (!Array.isArray(entry.constructorArgs)) {
        problems.push(`${at}.constructorArgs: expected an array`);
      }
      if (problems.length === before) result[name] = entry as unknown as DeploymentEntry;
    }
  }
  if (problems.length > 0) throw invalid(source, problems);
  return { chainId: chainId as number, contracts: result };
}

function invalid(source: string, details: string[]): InputError {
  return new InputError(ErrorCodes.WORKSPACE_INVALID, `${source} is not a valid deployments record`, {
    details,
    hint: `Fix ${source} by hand, or move it aside to deploy the contracts afresh.`,
  });
}
