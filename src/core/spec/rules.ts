import { isIP } from 'node:net';
import type { NetworkSpec } from './types.js';

export interface SpecProblem {
  path: (string | number)[];
  message: string;
}

export interface SpecRulesResult {
  errors: SpecProblem[];
  warnings: string[];
}

// Public chains whose replay protection a private network must not share.
const PUBLIC_CHAIN_IDS: ReadonlyMap<number, string> = new Map([
  [1, 'Ethereum Mainnet'],
  [11155111, 'Sepolia'],
  [17000, 'Holesky'],
  [560048, 'Hoodi'],
  [137, 'Polygon PoS'],
  [56, 'BNB Smart Chain'],
  [10, 'OP Mainnet'],
  [42161, 'Arbitrum One'],
  [8453, 'Base'],
]);

/** True when the address can only be reached from this machine. */
export function isLoopback(host: string): boolean {
  return host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * Blocks needed to make progress and faulty validators tolerated, as Besu computes them
 * (`BftHelpers.calculateRequiredValidatorQuorum` = ceil(2N/3); f = floor((N-1)/3)).
 * @param validatorCount - N, the number of validators
 * @returns the quorum and the number of faulty validators tolerated
 */
export function bftTolerance(validatorCount: number): { quorum: number; faultTolerance: number } {
  return {
    quorum: Math.ceil((2 * validatorCount) / 3),
    faultTolerance: Math.max(0, Math.floor((validatorCount - 1) / 3)),
  };
}

/**
 * The rules a JSON Schema cannot express: references between fields, uniqueness, ports per host.
 * @param spec - a spec that already passed the schema
 * @returns every error (with its path) and warnings worth telling the operator
 */
export function checkSpecRules(spec: NetworkSpec): SpecRulesResult {
  const errors: SpecProblem[] = [];
  const warnings: string[] = [];

  const publicChain = PUBLIC_CHAIN_IDS.get(spec.chainId);
  if (publicChain) {
    errors.push({
      path: ['chainId'],
      message: `expected a private chain id, found ${spec.chainId}, which is ${publicChain}'s`,
    });
  }

  reportDuplicates(
    spec.organisations.map((organisation, index) => ({
      key: organisation.name,
      path: ['organisations', index, 'name'],
    })),
    (key) => `organisation name "${key}" is used more than once`,
    errors,
  );
  reportDuplicates(
    spec.organisations.flatMap((organisation, index) =>
      organisation.admin
        ? [{ key: organisation.admin.toLowerCase(), path: ['organisations', index, 'admin'] }]
        : [],
    ),
    (key) => `admin address ${key} is given to more than one organisation`,
    errors,
  );
  reportDuplicates(
    spec.nodes.map((node, index) => ({ key: node.name, path: ['nodes', index, 'name'] })),
    (key) => `node name "${key}" is used more than once`,
    errors,
  );
  reportDuplicates(
    spec.nodes.flatMap((node, index) =>
      node.publicKey
        ? [{ key: node.publicKey.toLowerCase().replace(/^0x/, ''), path: ['nodes', index, 'publicKey'] }]
        : [],
    ),
    () => 'this public key is given to more than one node; every node needs its own enode',
    errors,
  );

  const organisationNames = new Set(spec.organisations.map((organisation) => organisation.name));
  spec.nodes.forEach((node, index) => {
    if (!organisationNames.has(node.organisation)) {
      errors.push({
        path: ['nodes', index, 'organisation'],
        message: `expected one of the organisations (${[...organisationNames].join(', ')}), found "${node.organisation}"`,
      });
    }
  });

  const validators = spec.nodes.filter((node) => node.role === 'validator');
  const txNodes = spec.nodes.filter((node) => node.role === 'tx');
  if (validators.length === 0) {
    errors.push({ path: ['nodes'], message: 'expected at least one node with role "validator", found none' });
  }
  if (txNodes.length === 0) {
    errors.push({
      path: ['nodes'],
      message: 'expected a node with role "tx" (the adapter sends transactions to it), found none',
    });
  }
  if (spec.service.rpcNode !== undefined) {
    if (!txNodes.some((node) => node.name === spec.service.rpcNode)) {
      errors.push({
        path: ['service', 'rpcNode'],
        message: `expected the name of a tx node (${txNodes.map((node) => node.name).join(', ') || 'none defined'}), found "${spec.service.rpcNode}"`,
      });
    }
  } else if (txNodes.length > 1) {
    errors.push({
      path: ['service'],
      message: `missing "rpcNode": there are ${txNodes.length} tx nodes, name the one the adapter uses`,
    });
  }

  checkPortsPerHost(spec, errors);

  const everyHostLoopback = [...spec.nodes.map((node) => node.host), spec.service.host].every(isLoopback);
  if (!spec.installDir.startsWith('/') && !everyHostLoopback) {
    errors.push({
      path: ['installDir'],
      message: `expected an absolute path (the nodes are on other machines), found "${spec.installDir}"`,
    });
  }

  if (spec.consensus.requestTimeoutSeconds < 2 * spec.consensus.blockPeriodSeconds) {
    warnings.push(
      `consensus.requestTimeoutSeconds (${spec.consensus.requestTimeoutSeconds}) is under twice the block period (${spec.consensus.blockPeriodSeconds} s): expect needless round changes under load.`,
    );
  }
  if (validators.length > 0) {
    const { quorum, faultTolerance } = bftTolerance(validators.length);
    warnings.push(
      faultTolerance === 0
        ? `${validators.length} validator(s): blocks need ${quorum} of them online (ceil(2N/3)); below 4 validators no faulty validator is tolerated in the BFT sense.`
        : `${validators.length} validators: blocks need ${quorum} of them online (ceil(2N/3)); ${faultTolerance} faulty validator(s) tolerated.`,
    );
  }
  return { errors, warnings };
}

function reportDuplicates(
  entries: { key: string; path: (string | number)[] }[],
  describe: (key: string) => string,
  errors: SpecProblem[],
): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.key)) errors.push({ path: entry.path, message: describe(entry.key) });
    seen.add(entry.key);
  }
}

function checkPortsPerHost(spec: NetworkSpec, errors: SpecProblem[]): void {
  const taken = new Map<string, string>();
  const claim = (host: string, port: number, owner: string, path: (string | number)[]) => {
    const key = `${host}|${port}`;
    const holder = taken.get(key);
    if (holder) {
      errors.push({ path, message: `port ${port} on ${host} is already used by ${holder}` });
    } else {
      taken.set(key, owner);
    }
  };
  spec.nodes.forEach((node, index) => {
    // P2P uses the port for TCP and UDP discovery; the RPC and metrics ports only TCP.
    claim(node.host, node.p2pPort, `${node.name} (p2pPort)`, ['nodes', index, 'p2pPort']);
    claim(node.host, node.rpcPort, `${node.name} (rpcPort)`, ['nodes', index, 'rpcPort']);
    claim(node.host, node.metricsPort, `${node.name} (metricsPort)`, ['nodes', index, 'metricsPort']);
  });
  claim(spec.service.host, spec.service.adapterPort, 'the service (adapterPort)', ['service', 'adapterPort']);
}
