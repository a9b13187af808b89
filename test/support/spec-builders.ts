import { stringify } from 'yaml';
import type { ConsensusSpec, NetworkSpec, NodeRole, NodeRuntime } from '../../src/core/spec/types.js';

/** A node as an operator writes it in `network.yaml`: required fields, the rest optional. */
export interface NodeInput {
  name: string;
  organisation: string;
  role: NodeRole;
  host: string;
  p2pPort?: number;
  rpcPort?: number;
  metricsPort?: number;
  runtime?: NodeRuntime;
  publicKey?: string;
}

/** A `network.yaml` document before validation: only what the operator wrote, no defaults. */
export interface SpecInput {
  name: string;
  chainId: number;
  installDir?: string;
  consensus?: Partial<ConsensusSpec>;
  gas?: { blockGasLimit?: number };
  organisations: { name: string; admin?: string }[];
  nodes: NodeInput[];
  service: { host: string; adapterPort?: number; rpcNode?: string; runtime?: NodeRuntime };
}

export interface SpecBuilderOptions {
  /** Number of validator nodes (default 4), each on its own machine and organisation. */
  validators?: number;
  /** Number of tx nodes (default 1), each on its own machine. */
  txNodes?: number;
  chainId?: number;
  consensus?: Partial<ConsensusSpec>;
}

/** The host of the `index`-th (0-based) validator: 10.0.0.11, 10.0.0.12, ... */
export const validatorHost = (index: number): string => `10.0.0.${11 + index}`;
/** The host of the `index`-th (0-based) tx node: 10.0.1.11, ... */
export const txHost = (index: number): string => `10.0.1.${11 + index}`;
/** The service machine's host. */
export const serviceHost = '10.0.2.11';

/**
 * A minimal valid spec document as an operator would write it: validators `validator-1..N` in
 * organisations `org-1..N`, tx nodes `tx-1..M` in `org-1`, every machine on its own address.
 * @param options - counts and the few values tests vary
 * @returns a fresh object each call, safe to mutate
 */
export function aSpecInput(options: SpecBuilderOptions = {}): SpecInput {
  const validators = options.validators ?? 4;
  const txNodes = options.txNodes ?? 1;
  const input: SpecInput = {
    name: 'test-net',
    chainId: options.chainId ?? 424242,
    organisations: Array.from({ length: Math.max(1, validators) }, (_, index) => ({
      name: `org-${index + 1}`,
    })),
    nodes: [
      ...Array.from({ length: validators }, (_, index) => ({
        name: `validator-${index + 1}`,
        organisation: `org-${index + 1}`,
        role: 'validator' as const,
        host: validatorHost(index),
      })),
      ...Array.from({ length: txNodes }, (_, index) => ({
        name: `tx-${index + 1}`,
        organisation: 'org-1',
        role: 'tx' as const,
        host: txHost(index),
      })),
    ],
    service: { host: serviceHost },
  };
  if (options.consensus) input.consensus = { ...options.consensus };
  return input;
}

/**
 * The YAML text of a spec document.
 * @param input - a document from {@link aSpecInput}, possibly changed by the test
 */
export function aSpecYaml(input: SpecInput = aSpecInput()): string {
  return stringify(input);
}

/**
 * A validated spec with every default filled in, as the rest of the code receives it.
 * @param options - counts and the few values tests vary
 * @returns a fresh object each call
 */
export function aNetworkSpec(options: SpecBuilderOptions & { blockGasLimit?: number } = {}): NetworkSpec {
  const input = aSpecInput(options);
  const ssh = () => ({ user: 'besu', port: 22 });
  return {
    name: input.name,
    chainId: input.chainId,
    installDir: '/opt/peruri-chain',
    consensus: { blockPeriodSeconds: 2, epochLength: 30000, requestTimeoutSeconds: 4, ...options.consensus },
    gas: { blockGasLimit: options.blockGasLimit ?? 100_000_000 },
    besu: { image: 'hyperledger/besu:26.2.0', binary: '/opt/besu/bin/besu', javaOpts: '-Xmx2g' },
    organisations: input.organisations,
    nodes: input.nodes.map((node) => ({
      ...node,
      ssh: ssh(),
      p2pPort: 30303,
      rpcPort: 8545,
      metricsPort: 9545,
      runtime: 'docker' as const,
    })),
    service: { host: input.service.host, ssh: ssh(), adapterPort: 8080, runtime: 'systemd' },
    contracts: {
      token: { name: 'Peruri Points', symbol: 'PPT', decimals: 0 },
      badges: { uri: 'https://badges.example.invalid/{id}.json' },
    },
  };
}
