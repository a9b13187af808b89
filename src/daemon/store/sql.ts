/**
 * The SQL both databases run, parameters written `$1`, `$2`, ... (the SQLite dialect renames them).
 * Only standard SQL that SQLite 3.35+ and PostgreSQL 13+ both take: ON CONFLICT, RETURNING.
 */

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
    RETURNING *`,
  queueDepth: "SELECT COUNT(*) AS n FROM activities WHERE status = 'queued'",

  balanceOf: 'SELECT balance FROM token_balances WHERE address = $1',
  badgesOf:
    "SELECT badge_id, amount FROM badge_holdings WHERE address = $1 AND amount <> '0' ORDER BY badge_id",

  lastAudit: 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  insertAudit: `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  auditPage: 'SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2',

  countRows: (table: string) => `SELECT COUNT(*) AS n FROM ${table}`,
} as const;
