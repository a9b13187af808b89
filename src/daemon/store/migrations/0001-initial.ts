/**
 * The initial schema, once per database. The two texts hold the same tables, columns and
 * constraints; they differ only in types (PostgreSQL: TIMESTAMPTZ, JSONB, identity columns).
 *
 * Designed for the mirror worker that comes later, so that it needs no breaking migration:
 * activities carry their batch, leaf, proof, transaction hashes, attempts and next attempt time;
 * batches and transactions (the outbox, one row per signed transaction, unique per signer and
 * nonce) exist already; chain_cursor, token_balances and badge_holdings hold what it indexes from
 * chain events. Statuses that only the worker sets (batches, transactions) are checked in code, not
 * by CHECK constraints: SQLite cannot alter a CHECK without rebuilding the table.
 *
 * Amounts (points, balances, badge amounts) are uint256 values, kept as decimal text in both
 * databases. audit_log.at and audit_log.details are text in both, because their exact bytes are
 * hashed into the chain; triggers refuse UPDATE and DELETE on it (and TRUNCATE on PostgreSQL).
 */

export const version = 1;
export const name = 'initial';

export const sqlite = `
CREATE TABLE sequences (
  name TEXT PRIMARY KEY,
  next_value INTEGER NOT NULL
);
INSERT INTO sequences (name, next_value) VALUES ('wallet_index', 0);

CREATE TABLE wallets (
  user_id TEXT PRIMARY KEY,
  wallet_index INTEGER NOT NULL UNIQUE CHECK (wallet_index >= 0 AND wallet_index < 2147483648),
  address TEXT NOT NULL UNIQUE,
  did TEXT NOT NULL UNIQUE,
  custody TEXT NOT NULL CHECK (custody IN ('custodial', 'self')),
  created_at TEXT NOT NULL
);

CREATE TABLE batches (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  merkle_root TEXT,
  tx_hashes TEXT NOT NULL DEFAULT '[]',
  block_number INTEGER,
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX batches_status_created ON batches (status, created_at);

CREATE TABLE activities (
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
  activity_ref TEXT NOT NULL UNIQUE,
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
CREATE INDEX activities_status_created ON activities (status, created_at);
CREATE INDEX activities_batch ON activities (batch_id);

CREATE TABLE transactions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  signer TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  purpose TEXT NOT NULL,
  batch_id TEXT REFERENCES batches (id),
  raw_tx TEXT NOT NULL,
  tx_hash TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  block_number INTEGER,
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (signer, nonce)
);
CREATE INDEX transactions_status ON transactions (status, signer, nonce);

CREATE TABLE chain_cursor (
  name TEXT PRIMARY KEY,
  block_number INTEGER NOT NULL,
  block_hash TEXT,
  updated_at TEXT NOT NULL
);

CREATE TABLE token_balances (
  address TEXT PRIMARY KEY,
  balance TEXT NOT NULL DEFAULT '0',
  block_number INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
);

CREATE TABLE badge_holdings (
  address TEXT NOT NULL,
  badge_id TEXT NOT NULL,
  amount TEXT NOT NULL DEFAULT '0',
  block_number INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (address, badge_id)
);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
`;

export const postgres = `
CREATE TABLE sequences (
  name TEXT PRIMARY KEY,
  next_value BIGINT NOT NULL
);
INSERT INTO sequences (name, next_value) VALUES ('wallet_index', 0);

CREATE TABLE wallets (
  user_id TEXT PRIMARY KEY,
  wallet_index BIGINT NOT NULL UNIQUE CHECK (wallet_index >= 0 AND wallet_index < 2147483648),
  address TEXT NOT NULL UNIQUE,
  did TEXT NOT NULL UNIQUE,
  custody TEXT NOT NULL CHECK (custody IN ('custodial', 'self')),
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE batches (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  merkle_root TEXT,
  tx_hashes JSONB NOT NULL DEFAULT '[]',
  block_number BIGINT,
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX batches_status_created ON batches (status, created_at);

CREATE TABLE activities (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  request_hash TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('activity', 'mint')),
  user_id TEXT NOT NULL,
  wallet TEXT NOT NULL,
  type TEXT NOT NULL,
  occurred_at TIMESTAMPTZ NOT NULL,
  payload JSONB,
  points TEXT NOT NULL DEFAULT '0',
  badge_id TEXT,
  badge_amount TEXT,
  activity_ref TEXT NOT NULL UNIQUE,
  detail_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'submitted', 'confirmed', 'failed')),
  reason TEXT,
  batch_id TEXT REFERENCES batches (id),
  leaf_hash TEXT,
  merkle_root TEXT,
  proof JSONB,
  tx_hashes JSONB NOT NULL DEFAULT '[]',
  block_number BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX activities_status_created ON activities (status, created_at);
CREATE INDEX activities_batch ON activities (batch_id);

CREATE TABLE transactions (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  signer TEXT NOT NULL,
  nonce BIGINT NOT NULL,
  purpose TEXT NOT NULL,
  batch_id TEXT REFERENCES batches (id),
  raw_tx TEXT NOT NULL,
  tx_hash TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  block_number BIGINT,
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  UNIQUE (signer, nonce)
);
CREATE INDEX transactions_status ON transactions (status, signer, nonce);

CREATE TABLE chain_cursor (
  name TEXT PRIMARY KEY,
  block_number BIGINT NOT NULL,
  block_hash TEXT,
  updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE token_balances (
  address TEXT PRIMARY KEY,
  balance TEXT NOT NULL DEFAULT '0',
  block_number BIGINT NOT NULL DEFAULT 0,
  updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE badge_holdings (
  address TEXT NOT NULL,
  badge_id TEXT NOT NULL,
  amount TEXT NOT NULL DEFAULT '0',
  block_number BIGINT NOT NULL DEFAULT 0,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (address, badge_id)
);

CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
`;
