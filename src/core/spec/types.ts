/**
 * The network spec (`network.yaml`): the one source of truth of a workspace. These types are
 * what the rest of the code sees after validation, with every default filled in.
 */

export type NodeRole = 'validator' | 'tx';
export type NodeRuntime = 'docker' | 'systemd';

export interface SshTarget {
  /** Login user on the machine; also the user the runtime files run Besu as. */
  user: string;
  port: number;
}

export interface OrganisationSpec {
  name: string;
  /**
   * The organisation's admin account. When absent, `init` generates an encrypted keystore
   * for it in the workspace (fine for a pilot; in production each organisation brings its own).
   */
  admin?: string;
}

export interface NodeSpec {
  name: string;
  organisation: string;
  role: NodeRole;
  /** IP address the node is reached at: P2P host, enode host, the tx node's RPC host. */
  host: string;
  ssh: SshTarget;
  p2pPort: number;
  rpcPort: number;
  metricsPort: number;
  runtime: NodeRuntime;
  /**
   * An existing node identity (`0x` + 128 hex, the uncompressed secp256k1 key without `04`),
   * for a key kept in an HSM or elsewhere: no key file is generated for this node.
   */
  publicKey?: string;
}

export interface ServiceSpec {
  host: string;
  ssh: SshTarget;
  adapterPort: number;
  runtime: NodeRuntime;
  /** The tx node the adapter sends transactions to; defaults to the only tx node. */
  rpcNode?: string;
}

export interface BesuSpec {
  /** Docker image with a pinned tag, for the docker runtime. */
  image: string;
  /** Path of the Besu launcher on the machines, for the systemd runtime. */
  binary: string;
  /** JVM heap options passed through BESU_OPTS. */
  javaOpts: string;
}

export interface ConsensusSpec {
  blockPeriodSeconds: number;
  epochLength: number;
  requestTimeoutSeconds: number;
}

export interface GasSpec {
  /** Block gas limit, in gas; gas price is always zero on this network. */
  blockGasLimit: number;
}

export interface ContractsSpec {
  token: { name: string; symbol: string; decimals: number };
  badges: { uri: string };
}

export interface NetworkSpec {
  /** Editor hint only (`$schema` of the YAML document); ignored by peruri-chain. */
  $schema?: string;
  name: string;
  chainId: number;
  /**
   * Where workspace folders live on the machines: node `x` at `<installDir>/nodes/x`, the
   * service at `<installDir>/service`. A relative path means "inside this workspace" and is
   * only valid when every host is loopback (one-machine networks).
   */
  installDir: string;
  consensus: ConsensusSpec;
  gas: GasSpec;
  besu: BesuSpec;
  organisations: OrganisationSpec[];
  nodes: NodeSpec[];
  service: ServiceSpec;
  contracts: ContractsSpec;
}
