/**
 * The SQL both databases run, parameters written `$1`, `$2`, ... (the SQLite dialect renames them).
 * Only standard SQL that SQLite 3.35+ and PostgreSQL 13+ both take: ON CONFLICT, RETURNING.
 */

/** How many activity ids one claim statement takes; a shorter list is padded by repetition. */
export const ACTIVITY_CHUNK = 500;

function placeholders(first: number, count: number): string {
  return Array.from({ length: count }, (_, index) => `$${first + index}`).join(', ');
}

/** An outbox row without its raw transaction (tens of kilobytes), for lists read every round. */
const TRANSACTION_COLUMNS = `id, signer, nonce, purpose, part, batch_id, tx_hash, status, block_number, reason,
  attempts, next_attempt_at, created_at, updated_at, raw_tx_gas_limit`;

export const SQL = {
  ping: 'SELECT 1 AS ok',

  walletByUser: 'SELECT * FROM wallets WHERE user_id = $1',
  takeWalletIndex:
    "UPDATE sequences SET next_value = next_value + 1 WHERE name = 'wallet_index' RETURNING next_value - 1 AS value",
  insertWallet: `INSERT INTO wallets (user_id, wallet_index, address, did, custody, created_at)
    VALUES ($1, $2, $3, $4, 'custodial', $5)
    ON CONFLICT (user_id) DO NOTHING
    RETURNING *`,

  activityById: 'SELECT * FROM activities WHERE id = $1',
  activityByKey: 'SELECT * FROM activities WHERE idempotency_key = $1',
  insertActivity: `INSERT INTO activities (
      id, idempotency_key, request_hash, kind, user_id, wallet, type, occurred_at, payload,
      points, badge_id, badge_amount, activity_ref, detail_hash, status, tx_hashes, attempts,
      created_at, updated_at
    ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'queued', '[]', 0, $15, $15)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id`,
  queueDepth: "SELECT COUNT(*) AS n FROM activities WHERE status = 'queued'",

  balanceOf: 'SELECT balance FROM token_balances WHERE address = $1',
  badgesOf:
    "SELECT badge_id, amount FROM badge_holdings WHERE address = $1 AND amount <> '0' ORDER BY badge_id",

  lastAudit: 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  insertAudit: `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  auditPage: 'SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2',

  countRows: (table: string) => `SELECT COUNT(*) AS n FROM ${table}`,

  claimable: `SELECT id, wallet, points, badge_id, badge_amount, activity_ref, detail_hash, created_at FROM activities
    WHERE status = 'queued' AND batch_id IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
    ORDER BY created_at, id LIMIT $2`,
  insertBatch: `INSERT INTO batches (id, status, size, merkle_root, parts, tx_hashes, attempts, created_at, updated_at)
    VALUES ($1, 'submitted', $2, $3, $4, '[]', 0, $5, $5)`,
  /** `$1` batch, `$2` root, `$3` time, then ACTIVITY_CHUNK ids. */
  claimActivities: `UPDATE activities SET status = 'submitted', batch_id = $1, merkle_root = $2, updated_at = $3
    WHERE status = 'queued' AND batch_id IS NULL AND id IN (${placeholders(4, ACTIVITY_CHUNK)})
    RETURNING id`,
  maxNonce: 'SELECT MAX(nonce) AS nonce FROM transactions WHERE signer = $1',
  insertTransaction: `INSERT INTO transactions (signer, nonce, purpose, part, batch_id, raw_tx, tx_hash, raw_tx_gas_limit,
      status, attempts, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'signed', 0, $9, $9)
    RETURNING ${TRANSACTION_COLUMNS}`,
  unfinishedTransactions: `SELECT ${TRANSACTION_COLUMNS} FROM transactions
    WHERE status IN ('signed', 'sent') ORDER BY signer, nonce`,
  /** ACTIVITY_CHUNK ids. */
  rawTransactions: `SELECT id, raw_tx FROM transactions WHERE id IN (${placeholders(1, ACTIVITY_CHUNK)})`,
  recordOutcome: `UPDATE transactions SET status = $2, block_number = COALESCE($3, block_number), reason = COALESCE($4, reason),
    attempts = COALESCE($5, attempts), next_attempt_at = $6, updated_at = $7 WHERE id = $1`,
  makeFiller: `UPDATE transactions SET purpose = 'filler', part = NULL, raw_tx = $2, tx_hash = $3, raw_tx_gas_limit = '21000', status = 'signed',
    reason = $4, attempts = 0, next_attempt_at = NULL, updated_at = $5 WHERE id = $1`,
  countBatchAttempt: 'UPDATE batches SET attempts = attempts + 1, updated_at = $2 WHERE id = $1',
  batchesInFlight: "SELECT * FROM batches WHERE status = 'submitted' ORDER BY created_at, id",
  lastConfirmedBlock: "SELECT MAX(block_number) AS block_number FROM batches WHERE status = 'confirmed'",
  batchById: 'SELECT * FROM batches WHERE id = $1',
  /** In the order they were stored: a part's later attempt comes after its earlier ones, whichever signer signed them. */
  batchTransactions: `SELECT ${TRANSACTION_COLUMNS} FROM transactions WHERE batch_id = $1 ORDER BY id`,
  batchActivities: 'SELECT * FROM activities WHERE batch_id = $1 ORDER BY created_at, id',
  confirmBatch: `UPDATE batches SET status = 'confirmed', block_number = $2, tx_hashes = $3, updated_at = $4 WHERE id = $1`,
  confirmBatchActivities: `UPDATE activities SET status = 'confirmed', block_number = $2, updated_at = $3
    WHERE batch_id = $1 AND status = 'submitted'`,
  failBatch: `UPDATE batches SET status = 'failed', reason = $2, updated_at = $3 WHERE id = $1`,
  failBatchActivities: `UPDATE activities SET status = 'failed', reason = $2, updated_at = $3
    WHERE batch_id = $1 AND status = 'submitted'`,

  cursor: 'SELECT block_number FROM chain_cursor WHERE name = $1',
  insertCursor: `INSERT INTO chain_cursor (name, block_number, block_hash, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (name) DO NOTHING RETURNING name`,
  moveCursor: `UPDATE chain_cursor SET block_number = $2, block_hash = $3, updated_at = $4
    WHERE name = $1 AND block_number = $5 RETURNING name`,
  upsertBalance: `INSERT INTO token_balances (address, balance, block_number, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (address) DO UPDATE SET balance = $2, block_number = $3, updated_at = $4`,
  upsertBadge: `INSERT INTO badge_holdings (address, badge_id, amount, block_number, updated_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (address, badge_id) DO UPDATE SET amount = $3, block_number = $4, updated_at = $5`,
  badgeAmount: 'SELECT amount FROM badge_holdings WHERE address = $1 AND badge_id = $2',
  clearBalances: 'DELETE FROM token_balances',
  clearBadges: 'DELETE FROM badge_holdings',
  clearCursor: 'DELETE FROM chain_cursor WHERE name = $1',
} as const;
