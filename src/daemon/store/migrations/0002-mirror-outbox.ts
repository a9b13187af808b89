/**
 * What the mirror worker needs beyond the initial schema: a batch remembers how its work was cut
 * into transactions (`parts`: which activities each mint transaction covers), and an outbox row
 * names the part it carries, so a retried part replaces exactly that transaction, and keeps its gas
 * limit beside the raw transaction, so the lists the worker reads every round leave the raw bytes out. Evidence for
 * one activity (leaf, proof, transaction hashes) is derived from these and the batch's activities
 * on demand, instead of ten thousand row updates per batch.
 */

export const version = 2;
export const name = 'mirror-outbox';

export const sqlite = `
ALTER TABLE batches ADD COLUMN parts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE transactions ADD COLUMN part TEXT;
ALTER TABLE transactions ADD COLUMN raw_tx_gas_limit TEXT NOT NULL DEFAULT '0';
CREATE INDEX transactions_batch ON transactions (batch_id);
`;

export const postgres = `
ALTER TABLE batches ADD COLUMN parts JSONB NOT NULL DEFAULT '[]';
ALTER TABLE transactions ADD COLUMN part TEXT;
ALTER TABLE transactions ADD COLUMN raw_tx_gas_limit TEXT NOT NULL DEFAULT '0';
CREATE INDEX transactions_batch ON transactions (batch_id);
`;
