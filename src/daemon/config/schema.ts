/**
 * JSON Schema of `service/adapter.yaml`. Defaults live here (ajv `useDefaults`), so a minimal file
 * works and the rendered file shows every setting. Cross-field rules (which secret goes with
 * which algorithm, database URL forms) are checked in load.ts after the schema.
 */

const envName = {
  type: 'string',
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  description: 'the name of an environment variable',
} as const;

const filePath = { type: 'string', minLength: 1, description: 'a file path' } as const;

const positiveInteger = (description: string, fallback: number, maximum: number) =>
  ({ type: 'integer', minimum: 1, maximum, default: fallback, description }) as const;

const keystoreSecret = {
  passwordEnv: envName,
  passwordFile: filePath,
} as const;

const address = {
  type: 'string',
  pattern: '^0x[0-9a-fA-F]{40}$',
  description: 'a 20-byte hex address',
} as const;

export const adapterConfigSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'peruri-chain adapter daemon configuration',
  type: 'object',
  additionalProperties: false,
  required: [
    'network',
    'chainId',
    'rpcUrl',
    'listen',
    'database',
    'signer',
    'wallets',
    'auth',
    'deploymentsFile',
  ],
  properties: {
    $schema: { type: 'string', description: 'editor hint only' },
    network: { type: 'string', minLength: 1, description: 'the network name' },
    chainId: { type: 'integer', minimum: 1, description: 'the chain id' },
    rpcUrl: { type: 'string', pattern: '^https?://', description: 'an http(s) JSON-RPC URL' },
    listen: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: {
        host: { type: 'string', minLength: 1, description: 'the address to listen on' },
        port: { type: 'integer', minimum: 0, maximum: 65535, description: 'a TCP port (0: any free port)' },
      },
    },
    database: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: {
          type: 'string',
          pattern: '^(sqlite:///|postgres(ql)?://)',
          description: 'sqlite:///absolute/path.db or postgres://user@host:port/database',
        },
        passwordEnv: envName,
        passwordFile: filePath,
        poolSize: positiveInteger('PostgreSQL connections', 10, 200),
      },
    },
    signer: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'address', 'keystoreFile'],
      properties: {
        kind: { type: 'string', enum: ['keystore'], description: 'where the signing key is held' },
        address,
        keystoreFile: filePath,
        ...keystoreSecret,
      },
    },
    wallets: {
      type: 'object',
      additionalProperties: false,
      required: ['masterKeystoreFile'],
      properties: {
        masterKeystoreFile: filePath,
        didMethod: { type: 'string', enum: ['peruri'], default: 'peruri', description: 'the DID method' },
        ...keystoreSecret,
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['jwt'],
      properties: {
        jwt: {
          type: 'object',
          additionalProperties: false,
          required: ['algorithms', 'audience'],
          properties: {
            algorithms: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: ['HS256', 'ES256', 'RS256'] },
              description: 'accepted JWT algorithms',
            },
            secretEnv: envName,
            secretFile: filePath,
            publicKeyFile: filePath,
            audience: { type: 'string', minLength: 1, description: 'the audience tokens must name' },
            issuer: { type: 'string', minLength: 1, description: 'the issuer tokens must name' },
            clockToleranceSeconds: {
              type: 'integer',
              minimum: 0,
              maximum: 300,
              default: 30,
              description: 'allowed clock skew in seconds',
            },
          },
        },
        mtls: {
          type: 'object',
          additionalProperties: false,
          required: ['caFile', 'certFile', 'keyFile'],
          properties: { caFile: filePath, certFile: filePath, keyFile: filePath },
        },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        bodyLimitBytes: positiveInteger('largest request body in bytes', 65_536, 16_777_216),
        shutdownTimeoutMs: positiveInteger('how long shutdown waits for requests in flight', 10_000, 600_000),
      },
    },
    intake: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        groupCommitMaxDelayMs: {
          type: 'integer',
          minimum: 0,
          maximum: 1000,
          default: 2,
          description: 'how long a write waits for others to share its commit',
        },
        groupCommitMaxBatch: positiveInteger('most writes in one commit', 500, 100_000),
      },
    },
    mirror: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'how the mirror worker batches activities on-chain',
      properties: {
        batchMaxSize: positiveInteger('most activities in one batch (one Merkle root)', 10_000, 100_000),
        batchIntervalMs: positiveInteger('how long activities wait for a batch to fill', 1_000, 600_000),
        maxEntriesPerTx: positiveInteger('payments in one mint transaction', 400, 2_000),
        maxBatchesInFlight: positiveInteger(
          'batches sent and not yet settled before cutting waits',
          8,
          1_000,
        ),
        pollIntervalMs: positiveInteger('pause between worker rounds', 250, 60_000),
        // Fewer when answers are large: at full load a block holds ten thousand Transfer events.
        indexBlocksPerQuery: positiveInteger(
          'most blocks per event query of the balance index',
          500,
          100_000,
        ),
        rebroadcastAfterMs: positiveInteger(
          'how long a sent transaction may go without a receipt before it is sent again',
          15_000,
          3_600_000,
        ),
        retry: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            maxAttempts: positiveInteger('attempts of a failing batch part before the batch fails', 5, 100),
            baseDelayMs: positiveInteger('first retry delay, doubled each time', 2_000, 3_600_000),
            maxDelayMs: positiveInteger('longest retry delay', 60_000, 86_400_000),
          },
        },
      },
    },
    amqp: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'queue'],
      description: 'activities also taken from a RabbitMQ queue (AMQP 0-9-1); absent: HTTP only',
      properties: {
        url: {
          type: 'string',
          pattern: '^amqps?://',
          description: 'amqp://user@host:5672/vhost (no password in it)',
        },
        passwordEnv: envName,
        passwordFile: filePath,
        queue: { type: 'string', minLength: 1, maxLength: 255, description: 'the queue to consume' },
        declare: {
          type: 'boolean',
          default: true,
          description: 'declare the queue (durable) if missing; false: it must exist already',
        },
        deadLetterExchange: {
          type: 'string',
          description: 'where a declared queue sends the messages it rejects (invalid or conflicting)',
        },
        prefetch: positiveInteger('unacknowledged messages the daemon holds at once', 256, 65_535),
        reconnectDelayMs: positiveInteger(
          'first wait before reconnecting, doubled up to a minute',
          1_000,
          60_000,
        ),
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: {
          type: 'string',
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
          description: 'the lowest log level written',
        },
      },
    },
    deploymentsFile: filePath,
  },
} as const;
