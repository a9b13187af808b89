/**
 * The one error hierarchy of peruri-chain. Core code throws these; each edge (the CLI's
 * BaseCommand, the daemon's error handler) maps the kind to an exit code or an HTTP status.
 */

/** Stable error codes; operators and CI match on these strings, so they never change meaning. */
export const ErrorCodes = {
  /** The network spec is not valid YAML or fails the schema or a cross-field rule. */
  SPEC_INVALID: 'PC_SPEC_INVALID',
  /** A spec file or example could not be found or read. */
  SPEC_NOT_FOUND: 'PC_SPEC_NOT_FOUND',
  /** A flag has a value that cannot be used (after oclif's own parsing). */
  FLAG_INVALID: 'PC_FLAG_INVALID',
  /** The workspace is missing, incomplete or inconsistent. */
  WORKSPACE_INVALID: 'PC_WORKSPACE_INVALID',
  /** A key file, keystore or public key cannot be read or does not match. */
  KEY_INVALID: 'PC_KEY_INVALID',
  /** A secret (password, passphrase) was needed and not supplied. */
  SECRET_MISSING: 'PC_SECRET_MISSING',
  /** An IBFT 2.0 extraData value cannot be decoded or an address list cannot be encoded. */
  EXTRA_DATA_INVALID: 'PC_EXTRA_DATA_INVALID',
  /** The workspace already exists and the command would overwrite it. */
  WORKSPACE_EXISTS: 'PC_WORKSPACE_EXISTS',
  /** Writing would destroy keys or data that the operator did not agree to lose. */
  WOULD_DESTROY_KEYS: 'PC_WOULD_DESTROY_KEYS',
  /** A remote machine, process or RPC endpoint failed or could not be reached. */
  REMOTE_FAILED: 'PC_REMOTE_FAILED',
  /** The workspace is bound to another chain than the one reached. */
  CHAIN_MISMATCH: 'PC_CHAIN_MISMATCH',
  /** The operation was interrupted (SIGINT) before it finished. */
  INTERRUPTED: 'PC_INTERRUPTED',
  /** Anything that should not happen: a bug in peruri-chain. */
  INTERNAL: 'PC_INTERNAL',
  /** A deployed contract's code differs from its record or from this version's contracts build. */
  CONTRACT_MISMATCH: 'PC_CONTRACT_MISMATCH',
  /** A contract parameter (token, badges, admins, minter) cannot be used in a deployment. */
  CONTRACT_PARAMS_INVALID: 'PC_CONTRACT_PARAMS_INVALID',
  /** An RPC endpoint URL is not an http(s) URL. */
  RPC_URL_INVALID: 'PC_RPC_URL_INVALID',
  /** A machine's SSH host key is not in the workspace's known-hosts file and first use was not accepted. */
  SSH_HOST_UNKNOWN: 'PC_SSH_HOST_UNKNOWN',
  /** A machine's SSH host key differs from the one recorded: possibly a man-in-the-middle. */
  SSH_HOST_KEY_CHANGED: 'PC_SSH_HOST_KEY_CHANGED',
  /** The SSH server refused every offered key (agent or key file). */
  SSH_AUTH_FAILED: 'PC_SSH_AUTH_FAILED',
  /** A container image is not present on the machine's Docker engine (it is never pulled). */
  IMAGE_MISSING: 'PC_IMAGE_MISSING',
  /** The adapter daemon's configuration file is missing, not YAML, or fails its schema or rules. */
  CONFIG_INVALID: 'PC_CONFIG_INVALID',
  /** An HTTP request to the adapter is malformed or fails its route's schema. */
  REQUEST_INVALID: 'PC_REQUEST_INVALID',
  /** An HTTP request to the adapter has no valid bearer token (missing, bad, expired, wrong audience). */
  UNAUTHORIZED: 'PC_UNAUTHORIZED',
  /** No such route, or no such record (an unknown activity id). */
  NOT_FOUND: 'PC_NOT_FOUND',
  /** An idempotency key was used before with a different request. */
  IDEMPOTENCY_CONFLICT: 'PC_IDEMPOTENCY_CONFLICT',
  /** An HTTP request body is larger than the configured limit. */
  BODY_TOO_LARGE: 'PC_BODY_TOO_LARGE',
  /** An HTTP request body has a content type the adapter does not take (it takes JSON). */
  MEDIA_TYPE_UNSUPPORTED: 'PC_MEDIA_TYPE_UNSUPPORTED',
  /** The adapter is shutting down and takes no new requests. */
  SHUTTING_DOWN: 'PC_SHUTTING_DOWN',
  /** The adapter cannot serve yet: its database or chain is not reachable. */
  NOT_READY: 'PC_NOT_READY',
  /** The adapter's database failed or could not be reached. */
  DATABASE_FAILED: 'PC_DATABASE_FAILED',
  /** The adapter could not listen on its configured address (in use, not permitted). */
  LISTEN_FAILED: 'PC_LISTEN_FAILED',
  /** A snapshot archive is damaged, altered, truncated or not a peruri-chain snapshot. */
  SNAPSHOT_INVALID: 'PC_SNAPSHOT_INVALID',
  /** The passphrase does not open a snapshot's encrypted section. */
  SNAPSHOT_PASSPHRASE_WRONG: 'PC_SNAPSHOT_PASSPHRASE_WRONG',
  /** A file the command would write (a snapshot archive) already exists. */
  OUTPUT_EXISTS: 'PC_OUTPUT_EXISTS',
  /** `up` runs only networks whose nodes and service are all on this machine (loopback addresses). */
  NOT_ONE_MACHINE: 'PC_NOT_ONE_MACHINE',
  /** The program that runs the local chain (the bundled EVM node, or `besu` on the PATH) is missing. */
  ENGINE_MISSING: 'PC_ENGINE_MISSING',
  /** Something that is not part of the local stack already listens on an address the stack needs. */
  PORT_IN_USE: 'PC_PORT_IN_USE',
  /** A process of the local stack exited or did not become ready in time. */
  LOCAL_START_FAILED: 'PC_LOCAL_START_FAILED',
  /** The local chain no longer holds the contracts recorded in deployments.json (its state was lost). */
  LOCAL_CHAIN_LOST: 'PC_LOCAL_CHAIN_LOST',
  /** The local stack runs and the operation needs it stopped first. */
  STACK_RUNNING: 'PC_STACK_RUNNING',
  /** Another `up` or `down` is changing the same workspace's local stack right now. */
  LOCAL_BUSY: 'PC_LOCAL_BUSY',
  /** A deployed node or the adapter did not become healthy in time (no blocks, no peers, wrong validators). */
  NODE_UNHEALTHY: 'PC_NODE_UNHEALTHY',
  /** `status` found something unhealthy: a machine, node, contract or the adapter. */
  NETWORK_UNHEALTHY: 'PC_NETWORK_UNHEALTHY',
  /** A rotation step would leave fewer than ceil(2N/3) validators online, or the chain makes no blocks. */
  QUORUM_AT_RISK: 'PC_QUORUM_AT_RISK',
  /** Validators hold pending votes (`ibft_getPendingVotes`) that this rotation did not make. */
  VOTES_PENDING: 'PC_VOTES_PENDING',
  /** Another key rotation is under way in this workspace; it must finish first. */
  ROTATION_IN_PROGRESS: 'PC_ROTATION_IN_PROGRESS',
  /** A validator vote did not change the validator set in time. */
  VOTE_NOT_APPLIED: 'PC_VOTE_NOT_APPLIED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The four kinds an edge needs to know to pick an exit code or an HTTP status. */
export type ErrorKind = 'input' | 'remote' | 'refused' | 'bug' | 'interrupted';

export interface PeruriErrorOptions {
  /** How to fix it, in one sentence addressed to the operator. */
  hint?: string;
  /** Every individual problem, one line each (for example one per failing spec path). */
  details?: string[];
  cause?: unknown;
}

/** Base class: a short message, a stable code, a hint and the list of individual problems. */
export abstract class PeruriError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: string[];

  constructor(code: ErrorCode, message: string, options: PeruriErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  /** The message followed by one indented line per detail, as printed to people. */
  describe(): string {
    return [this.message, ...this.details.map((line) => `  - ${line}`)].join('\n');
  }
}

/** The operator gave something unusable: a spec, a flag value, a workspace file. */
export class InputError extends PeruriError {
  readonly kind = 'input' as const;
}

/** A remote step failed: SSH, Docker, a process, an RPC endpoint. */
export class RemoteError extends PeruriError {
  readonly kind = 'remote' as const;
  readonly host: string | undefined;
  readonly command: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: PeruriErrorOptions & { host?: string; command?: string } = {},
  ) {
    super(code, message, options);
    this.host = options.host;
    this.command = options.command;
  }
}

/** A precondition does not hold or the step would destroy data; nothing was changed. */
export class RefusedError extends PeruriError {
  readonly kind = 'refused' as const;
}

/** The work was interrupted by the operator (Ctrl-C) or a shutdown signal. */
export class InterruptedError extends PeruriError {
  readonly kind = 'interrupted' as const;
  constructor(message = 'Interrupted', options: PeruriErrorOptions = {}) {
    super(ErrorCodes.INTERRUPTED, message, options);
  }
}

/** Something that should never happen. Reported with its cause so it can be fixed. */
export class BugError extends PeruriError {
  readonly kind = 'bug' as const;
  constructor(message: string, options: PeruriErrorOptions = {}) {
    super(ErrorCodes.INTERNAL, message, {
      hint: 'This is a bug in peruri-chain; please report it with the command and its output.',
      ...options,
    });
  }
}

/** True for any error of the hierarchy, including ones from another copy of the module. */
export function isPeruriError(error: unknown): error is PeruriError {
  return error instanceof PeruriError;
}
