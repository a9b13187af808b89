/**
 * Activities lose the UNIQUE constraint on `activity_ref`. The ref is a keyed hash of the activity
 * id, which is the primary key, so two refs alike would need two ids alike: the constraint could
 * not fail, and its index cost every insert a write at a random place in a B-tree that grows with
 * every activity ever taken (intake's commit writes a page per random index entry; measured in
 * bench/RESULTS.md, durable intake). Nothing looks an activity up by its ref.
 *
 * SQLite cannot drop a column's constraint, so the table is rebuilt (its documented procedure:
 * new table, copy, drop, rename, indexes again), inside the migration's transaction. No table
 * refers to activities, so the drop touches no foreign key.
 */

export const version = 3;
export const name = 'activity-ref-not-indexed';

export const sqlite = `
CREATE TABLE activities_rebuilt (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  request_hash TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('activity', 'mint')),
  user_id TEXT NOT NULL,
  wallet TEXT NOT NULL,
  type TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  payload TEXT,
  points TEXT NOT NULL DEFAULT '0',
  badge_id TEXT,
  badge_amount TEXT,
  activity_ref TEXT NOT NULL,
  detail_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'submitted', 'confirmed', 'failed')),
  reason TEXT,
  batch_id TEXT REFERENCES batches (id),
  leaf_hash TEXT,
  merkle_root TEXT,
  proof TEXT,
  tx_hashes TEXT NOT NULL DEFAULT '[]',
  block_number INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO activities_rebuilt (id, idempotency_key, request_hash, kind, user_id, wallet, type, occurred_at, payload, points, badge_id, badge_amount, activity_ref, detail_hash, status, reason, batch_id, leaf_hash, merkle_root, proof, tx_hashes, block_number, attempts, next_attempt_at, created_at, updated_at)
  SELECT id, idempotency_key, request_hash, kind, user_id, wallet, type, occurred_at, payload, points, badge_id, badge_amount, activity_ref, detail_hash, status, reason, batch_id, leaf_hash, merkle_root, proof, tx_hashes, block_number, attempts, next_attempt_at, created_at, updated_at FROM activities;
DROP TABLE activities;
ALTER TABLE activities_rebuilt RENAME TO activities;
CREATE INDEX activities_status_created ON activities (status, created_at);
CREATE INDEX activities_batch ON activities (batch_id);
`;

export const postgres = `
ALTER TABLE activities DROP CONSTRAINT activities_activity_ref_key;
`;
