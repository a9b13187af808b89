/**
 * The audit trail loses the UNIQUE constraint on `hash`. Each entry's hash covers the hash of the
 * entry before it and its own sequence number, so two alike would need a SHA-256 collision: the
 * constraint could not fail. Its index put every append (one per activity taken, more for wallets
 * and batches) at a random place in a B-tree as large as the whole trail, and each commit wrote a
 * page of it per entry: with 500,000 entries ≈ 100 µs per append against ≈ 23 µs without (raw
 * SQLite, 64 appends per transaction; bench/RESULTS.md, durable intake). Verification walks the
 * trail by `seq` and never looks up a hash.
 *
 * SQLite cannot drop a column's constraint, so the table is rebuilt by its documented procedure
 * inside the migration's transaction. Dropping the old table drops its append-only triggers before
 * its rows go (no trigger fires), and they are made again on the new one.
 */

export const version = 4;
export const name = 'audit-hash-not-indexed';

export const sqlite = `
CREATE TABLE audit_log_rebuilt (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_log_rebuilt (seq, at, actor, action, subject, details, prev_hash, hash)
  SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_rebuilt RENAME TO audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
`;

export const postgres = `
ALTER TABLE audit_log DROP CONSTRAINT audit_log_hash_key;
`;
