/** Records and the repository interface of the mirror worker: batches, the outbox, chain events. */
import type { ActivityRecord, AuditInput } from './types.js';

/** What the worker needs of an activity to put it in a batch. */
export type BatchActivity = Pick<
  ActivityRecord,
  'id' | 'wallet' | 'points' | 'badgeId' | 'badgeAmount' | 'activityRef' | 'detailHash' | 'createdAt'
>;

/** What an outbox transaction does for its batch. */
export type TransactionPurpose = 'anchor' | 'mint-points' | 'mint-badges' | 'filler';

/**
 * `signed`: stored, not yet accepted by a node. `sent`: a node accepted it (or already knew it).
 * `mined`: in a block, succeeded. `reverted`: in a block, failed. `replaced`: its nonce was used by
 * another transaction, so it can never be mined. `rejected`: the node refused it for good (its
 * nonce was then given to a filler).
 */
export type TransactionStatus = 'signed' | 'sent' | 'mined' | 'reverted' | 'replaced' | 'rejected';

/** One signed transaction of the daemon's signer, stored before it is broadcast. */
export interface OutboxTransaction {
  id: number;
  signer: string;
  nonce: number;
  purpose: TransactionPurpose;
  /** The part of its batch it carries (`anchor`, `points:0`, `badges:1`); null for a filler. */
  part: string | null;
  batchId: string | null;
  txHash: string;
  /** The gas limit it was signed with (the raw transaction itself is read only to broadcast). */
  gasLimit: string;
  status: TransactionStatus;
  blockNumber: number | null;
  reason: string | null;
  /** Broadcasts so far. */
  attempts: number;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * How a batch's work is cut into transactions: the anchor covers every activity; a mint part
 * covers positions `from` (inclusive) to `to` (exclusive) of the batch's activities that pay points
 * (`points:k`) or a badge (`badges:k`), in batch order.
 */
export interface BatchPart {
  part: string;
  purpose: Exclude<TransactionPurpose, 'filler'>;
  from: number;
  to: number;
}

export type BatchStatus = 'submitted' | 'confirmed' | 'failed';

export interface BatchRecord {
  id: string;
  status: BatchStatus;
  size: number;
  merkleRoot: string;
  parts: BatchPart[];
  blockNumber: number | null;
  reason: string | null;
  /** Retries of its parts so far. */
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

/** A transaction to sign once its nonce is known. */
export interface TransactionDraft {
  purpose: TransactionPurpose;
  part: string | null;
  batchId: string | null;
  to: string;
  data: string;
  gasLimit: bigint;
}

/** Signs drafts with consecutive nonces from `firstNonce`; the outbox passes the signer's. */
export type SignDrafts = (
  drafts: readonly TransactionDraft[],
  firstNonce: number,
) => Promise<{ raw: string; hash: string }[]>;

export interface SubmitBatchInput {
  batch: { id: string; merkleRoot: string; size: number; parts: BatchPart[] };
  /** The claimed activities, in batch order. */
  activityIds: string[];
  drafts: TransactionDraft[];
  signer: string;
  /** The lowest nonce the chain allows (its transaction count); stored nonces continue above it. */
  nonceFloor: number;
  sign: SignDrafts;
  audit: AuditInput;
}

/** An outcome for an outbox transaction. */
export interface TransactionOutcome {
  id: number;
  status: TransactionStatus;
  blockNumber?: number | null;
  reason?: string | null;
  attempts?: number;
  nextAttemptAt?: string | null;
}

/** Signed replacements for parts whose transaction can no longer succeed as it was. */
export interface ResignInput {
  /** The transactions being replaced and their final outcome. */
  replaced: TransactionOutcome[];
  drafts: TransactionDraft[];
  signer: string;
  nonceFloor: number;
  sign: SignDrafts;
  /** Batches whose retry count grows by one. */
  batchIds: string[];
  audit: AuditInput;
}

/** Balance and badge changes from a range of blocks, applied with the cursor in one write. */
export interface IndexedEvents {
  cursor: string;
  /** The cursor's block before this range (-1 when none): the write is refused if it moved. */
  expectedBlock: number;
  toBlock: number;
  toBlockHash: string | null;
  balanceDeltas: Map<string, bigint>;
  /** Keyed by `address|badgeId`. */
  badgeDeltas: Map<string, bigint>;
}

/** The worker's side of the repository. */
export interface MirrorStore {
  /** Queued activities whose time has come, oldest first (batch order). */
  claimable(limit: number, now: string): Promise<BatchActivity[]>;
  /**
   * In one write transaction: takes the next nonces (above the stored ones and `nonceFloor`),
   * signs the drafts, stores the batch, marks its activities submitted and stores the signed
   * transactions. Nothing is broadcast yet.
   * @returns the stored transactions, in nonce order
   * @throws when an activity was claimed by someone else meanwhile (nothing is stored)
   */
  submitBatch(input: SubmitBatchInput): Promise<OutboxTransaction[]>;
  /**
   * Signed or sent transactions of every signer (the current one and any it replaced whose
   * transactions are not settled yet), by signer, then in nonce order.
   */
  unfinishedTransactions(): Promise<OutboxTransaction[]>;
  /** The signed raw transactions of outbox rows, by id. */
  rawTransactions(ids: readonly number[]): Promise<Map<number, string>>;
  recordOutcomes(outcomes: readonly TransactionOutcome[]): Promise<void>;
  /** Marks transactions replaced/reverted/rejected and stores their signed replacements. */
  resign(input: ResignInput): Promise<OutboxTransaction[]>;
  /** Turns a rejected transaction's row into a signed filler at the same nonce. */
  replaceWithFiller(id: number, filler: { raw: string; hash: string }, reason: string): Promise<void>;
  batchesInFlight(): Promise<BatchRecord[]>;
  /** The block of the last confirmed batch, or null before any. */
  lastConfirmedBlock(): Promise<number | null>;
  getBatch(id: string): Promise<BatchRecord | undefined>;
  /** The transactions of a batch, every attempt, in the order they were stored (a part's latest attempt last). */
  batchTransactions(id: string): Promise<OutboxTransaction[]>;
  /** The activities of a batch, in batch order. */
  batchActivities(id: string): Promise<ActivityRecord[]>;
  confirmBatch(id: string, blockNumber: number, audit: AuditInput): Promise<void>;
  failBatch(id: string, reason: string, audit: AuditInput): Promise<void>;
  /** The indexer's cursor: last block applied, or -1. */
  cursor(name: string): Promise<number>;
  /** Applies changes and moves the cursor, unless the cursor moved meanwhile (returns false). */
  applyIndexedEvents(events: IndexedEvents): Promise<boolean>;
  /** Empties balances, badges and the cursor, so the indexer rebuilds them from block 0. */
  resetIndex(audit: AuditInput): Promise<void>;
}
