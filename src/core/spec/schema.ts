import type { JSONSchemaType } from 'ajv';
import type { NetworkSpec, NodeSpec, ServiceSpec, SshTarget } from './types.js';

/** Where the published schema is served from; examples point at the copy shipped beside them. */
export const NETWORK_SCHEMA_ID = 'https://peruri-chain.dev/schemas/network.schema.json';

const port = (description: string, fallback: number) =>
  ({ type: 'integer', minimum: 1, maximum: 65535, default: fallback, description }) as const;

const name = (description: string) =>
  ({
    type: 'string',
    pattern: '^[a-z][a-z0-9-]{0,30}[a-z0-9]$',
    description: `${description}: 2-32 lowercase letters, digits and dashes, starting with a letter`,
  }) as const;

const ipAddress = {
  type: 'string',
  anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }],
  description: 'an IPv4 or IPv6 address (enode URLs need an IP, not a host name)',
} as const;

const sshTarget: JSONSchemaType<SshTarget> = {
  type: 'object',
  description: 'how peruri-chain logs in to the machine',
  additionalProperties: false,
  required: [],
  properties: {
    user: {
      type: 'string',
      pattern: '^[a-z_][a-z0-9_-]{0,31}$',
      default: 'besu',
      description: 'a Unix user name',
    },
    port: port('SSH port', 22),
  },
  default: {},
} as unknown as JSONSchemaType<SshTarget>;

const runtime = {
  type: 'string',
  enum: ['docker', 'systemd'],
  default: 'docker',
  description: 'how the process runs on its machine',
} as const;

const nodeSchema: JSONSchemaType<NodeSpec> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'organisation', 'role', 'host'],
  properties: {
    name: name('node name'),
    organisation: { type: 'string', description: 'the name of one of the organisations' },
    role: { type: 'string', enum: ['validator', 'tx'], description: 'validator or tx (transaction node)' },
    host: ipAddress,
    ssh: sshTarget,
    p2pPort: port('P2P (devp2p) TCP/UDP port', 30303),
    rpcPort: port('JSON-RPC HTTP port', 8545),
    metricsPort: port('Prometheus metrics port', 9545),
    runtime,
    publicKey: {
      type: 'string',
      nullable: true,
      pattern: '^(0x)?[0-9a-fA-F]{128}$',
      description: 'an existing node public key: 128 hex digits (uncompressed secp256k1, no 04 prefix)',
    },
  },
} as unknown as JSONSchemaType<NodeSpec>;

const serviceSchema: JSONSchemaType<ServiceSpec> = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: ipAddress,
    ssh: sshTarget,
    adapterPort: port('adapter HTTP port', 8080),
    runtime,
    rpcNode: { type: 'string', nullable: true, description: 'the name of a tx node' },
  },
} as unknown as JSONSchemaType<ServiceSpec>;

/** The JSON Schema of `network.yaml`, typed against {@link NetworkSpec}; defaults live here. */
export const networkSpecSchema: JSONSchemaType<NetworkSpec> = {
  $id: NETWORK_SCHEMA_ID,
  title: 'peruri-chain network spec',
  description: 'One Besu IBFT 2.0 network: its consensus, nodes, service machine and contracts.',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'chainId', 'organisations', 'nodes', 'service'],
  properties: {
    $schema: { type: 'string', nullable: true, description: 'editor hint; ignored' },
    name: name('network name'),
    chainId: {
      type: 'integer',
      minimum: 1,
      maximum: 4503599627370476,
      description: 'an integer chain id from 1 to 2^52, not one of a public network',
    },
    installDir: {
      type: 'string',
      minLength: 1,
      default: '/opt/peruri-chain',
      description: 'a directory on the machines (absolute), or relative for a one-machine network',
    },
    consensus: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      description: 'IBFT 2.0 parameters',
      properties: {
        blockPeriodSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 60,
          default: 2,
          description: 'seconds between blocks, 1 to 60',
        },
        epochLength: {
          type: 'integer',
          minimum: 1,
          default: 30000,
          description: 'blocks after which pending validator votes are discarded',
        },
        requestTimeoutSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 600,
          default: 4,
          description: 'seconds before a round change; at least twice the block period is advised',
        },
      },
    },
    gas: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      description: 'gas is free (price 0); only the block gas limit is set',
      properties: {
        blockGasLimit: {
          type: 'integer',
          minimum: 5000000,
          maximum: 9007199254740991,
          default: 100000000,
          description: 'block gas limit: at least 5,000,000 so that the contracts can be deployed',
        },
      },
    },
    besu: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      description: 'which Besu the machines run',
      properties: {
        image: {
          type: 'string',
          pattern: '^[^\\s:]+(:[^\\s:@]+)?(@sha256:[0-9a-f]{64})?$',
          default: 'hyperledger/besu:26.2.0',
          description: 'a Docker image reference with a pinned tag or digest',
        },
        binary: {
          type: 'string',
          pattern: '^/',
          default: '/opt/besu/bin/besu',
          description: 'an absolute path to the besu launcher',
        },
        javaOpts: {
          type: 'string',
          default: '-Xmx2g',
          description: 'JVM options for Besu (BESU_OPTS)',
        },
      },
    },
    organisations: {
      type: 'array',
      minItems: 1,
      description: 'the organisations that run the network',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: name('organisation name'),
          admin: {
            type: 'string',
            nullable: true,
            pattern: '^0x[0-9a-fA-F]{40}$',
            description: 'an account address: 0x and 40 hex digits',
          },
        },
      },
    },
    nodes: { type: 'array', minItems: 1, items: nodeSchema, description: 'the Besu nodes' },
    service: serviceSchema,
    contracts: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      description: 'parameters of the deployed contracts',
      properties: {
        token: {
          type: 'object',
          additionalProperties: false,
          required: [],
          default: {},
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 64, default: 'Peruri Points' },
            symbol: {
              type: 'string',
              pattern: '^[A-Z0-9]{1,11}$',
              default: 'PPT',
              description: '1-11 uppercase letters or digits',
            },
            decimals: { type: 'integer', minimum: 0, maximum: 18, default: 0 },
          },
        },
        badges: {
          type: 'object',
          additionalProperties: false,
          required: [],
          default: {},
          properties: {
            uri: {
              type: 'string',
              minLength: 1,
              default: 'https://badges.example.invalid/{id}.json',
              description: 'ERC-1155 metadata URI; {id} is replaced by the badge id',
            },
          },
        },
      },
    },
  },
} as unknown as JSONSchemaType<NetworkSpec>;
