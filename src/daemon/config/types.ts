import type { MirrorSettings } from '../worker/mirror-worker.js';

/**
 * The adapter daemon's configuration (`service/adapter.yaml`), as the rest of the daemon sees it
 * after validation: defaults filled in, relative paths resolved against the file's folder.
 * Secrets are never values here, only the names of environment variables or files that hold them.
 */

/** Where a secret comes from: an environment variable or a file (one of the two). */
export interface SecretRef {
  env?: string;
  file?: string;
}

export type JwtAlgorithm = 'HS256' | 'ES256' | 'RS256';

export interface JwtConfig {
  /** Accepted signature algorithms; HS256 cannot be mixed with the public-key ones. */
  algorithms: JwtAlgorithm[];
  /** HS256: the variable holding the shared secret (at least 32 bytes). */
  secretEnv?: string;
  /** HS256: a file holding the shared secret. */
  secretFile?: string;
  /** ES256 / RS256: PEM file of the backend's public key (SPKI). */
  publicKeyFile?: string;
  /** The `aud` every token must carry. */
  audience: string;
  /** The `iss` every token must carry, when set. */
  issuer?: string;
  /** Allowed clock skew for `exp` and `nbf`. */
  clockToleranceSeconds: number;
}

export interface MtlsConfig {
  /** CA whose signature a client certificate must carry. */
  caFile: string;
  /** The server's certificate (PEM). */
  certFile: string;
  /** The server's private key (PEM, unencrypted, mode 0600). */
  keyFile: string;
}

export interface KeystoreSecretConfig {
  passwordEnv?: string;
  passwordFile?: string;
}

export interface AmqpConfig {
  /** `amqp://user@host:5672/vhost` (no password in it). */
  url: string;
  passwordEnv?: string;
  passwordFile?: string;
  queue: string;
  /** Declare the queue (durable) when missing; false: it must exist. */
  declare: boolean;
  /** Dead-letter exchange of a declared queue: where rejected messages go. */
  deadLetterExchange?: string;
  /** Unacknowledged deliveries held at once. */
  prefetch: number;
  /** First reconnect delay; doubled up to a minute. */
  reconnectDelayMs: number;
}

export interface AdapterConfig {
  network: string;
  chainId: number;
  rpcUrl: string;
  listen: { host: string; port: number };
  database: {
    /** `sqlite:///absolute/path.db` or `postgres://user@host:port/db` (no password in it). */
    url: string;
    /** PostgreSQL password, from a variable or a file. */
    passwordEnv?: string;
    passwordFile?: string;
    /** PostgreSQL connections kept open. */
    poolSize: number;
  };
  signer: { kind: 'keystore'; address: string; keystoreFile: string } & KeystoreSecretConfig;
  wallets: { masterKeystoreFile: string; didMethod: 'peruri' } & KeystoreSecretConfig;
  auth: { jwt: JwtConfig; mtls?: MtlsConfig };
  http: { bodyLimitBytes: number; shutdownTimeoutMs: number };
  intake: { groupCommitMaxDelayMs: number; groupCommitMaxBatch: number };
  mirror: MirrorSettings;
  /** Activities also taken from a RabbitMQ queue; absent: HTTP only. */
  amqp?: AmqpConfig;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  deploymentsFile: string;
}

/** The configuration file's path and content once loaded. */
export interface LoadedAdapterConfig {
  path: string;
  config: AdapterConfig;
}
