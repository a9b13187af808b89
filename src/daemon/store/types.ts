/** Records and the repository interface of the daemon's database (SQLite or PostgreSQL). */
import type { MirrorStore } from './mirror-types.js';

export type Custody = 'custodial' | 'self';

/** One app user's wallet: derived from the master secret at `index`, or their own (`self`). */
export interface WalletRecord {
  userId: string;
  index: number;
  address: string;
  did: string;
  custody: Custody;
  createdAt: string;
}

export type ActivityKind = 'activity' | 'mint';
export type ActivityStatus = 'queued' | 'submitted' | 'confirmed' | 'failed';

/** An accepted activity or points mint, from intake to confirmation. */
export interface ActivityRecord {
  id: string;
  idempotencyKey: string;
  /** sha256 of the canonical request; tells a replay from a conflicting reuse of the key. */
  requestHash: string;
  kind: ActivityKind;
  userId: string;
  wallet: string;
  type: string;
  occurredAt: string;
  payload: Record<string, unknown> | null;
  /** uint256 as decimal text. */
  points: string;
  badgeId: string | null;
  badgeAmount: string | null;
  activityRef: string;
  detailHash: string;
  status: ActivityStatus;
  reason: string | null;
  batchId: string | null;
  leafHash: string | null;
  merkleRoot: string | null;
  proof: string[] | null;
  txHashes: string[];
  blockNumber: number | null;
  attempts: number;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What intake supplies for a new activity; the store sets status, times and the rest. */
export type NewActivity = Pick<
  ActivityRecord,
  | 'id'
  | 'idempotencyKey'
  | 'requestHash'
  | 'kind'
  | 'userId'
  | 'wallet'
  | 'type'
  | 'occurredAt'
  | 'payload'
  | 'points'
  | 'badgeId'
  | 'badgeAmount'
  | 'activityRef'
  | 'detailHash'
>;

/**
 * `created`: stored now. `replayed`: the key was used before with the same request hash, the
 * earlier activity is returned. `conflict`: the key was used before for a different request.
 */
export interface InsertActivityResult {
  outcome: 'created' | 'replayed' | 'conflict';
  activity: ActivityRecord;
}

/** An entry for the audit trail, as a service describes it (never a secret or a payload body). */
export interface AuditInput {
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

/** An entry as stored: numbered, timed and chained to the one before it. */
export interface AuditEntry extends AuditInput {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export type AuditVerification =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; brokenAt: number; reason: string };

/** A wallet's cached token balance and badges (filled by the worker from chain events). */
export interface Holdings {
  balance: string;
  badges: { id: string; amount: string }[];
}

export interface EnsureWalletInput {
  userId: string;
  /** The address and DID of the wallet at an index the store just allocated. */
  derive(index: number): { address: string; did: string };
  /** The audit entry of the creation. */
  audit(wallet: WalletRecord): AuditInput;
}

export const STORE_TABLES = [
  'wallets',
  'activities',
  'batches',
  'transactions',
  'chain_cursor',
  'token_balances',
  'badge_holdings',
  'audit_log',
] as const;

export type StoreTable = (typeof STORE_TABLES)[number];

/** Write counters: with group commit, `commits` grows slower than `writes`. */
export interface StoreStats {
  writes: number;
  commits: number;
}

/** The daemon's one repository; both dialects implement it with the same SQL. */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** The mirror worker's side: batches, the outbox, indexed chain events. */
  readonly mirror: MirrorStore;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  findWallet(userId: string): Promise<WalletRecord | undefined>;
  /** The user's wallet, created at the next free index on first sight (once, under concurrency). */
  ensureWallet(input: EnsureWalletInput): Promise<{ wallet: WalletRecord; created: boolean }>;
  findActivityByKey(idempotencyKey: string): Promise<ActivityRecord | undefined>;
  /** Stores an activity durably, or reports the earlier one under the same key. */
  insertActivity(activity: NewActivity, audit: AuditInput): Promise<InsertActivityResult>;
  getActivity(id: string): Promise<ActivityRecord | undefined>;
  /** Activities waiting for the worker. */
  queueDepth(): Promise<number>;
  holdings(address: string): Promise<Holdings>;
  appendAudit(entry: AuditInput): Promise<AuditEntry>;
  /** Walks the audit chain from the first entry and reports the first break. */
  verifyAudit(): Promise<AuditVerification>;
  rowCounts(): Promise<Record<StoreTable, number>>;
  stats(): StoreStats;
  /** Finishes pending writes, then closes every connection. */
  close(): Promise<void>;
}
