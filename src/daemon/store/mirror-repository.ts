import type { AuditChain } from './audit.js';
import type { Dialect, Row, Tx } from './dialect.js';
import type {
  BatchActivity,
  BatchPart,
  BatchRecord,
  IndexedEvents,
  MirrorStore,
  OutboxTransaction,
  ResignInput,
  SignDrafts,
  SubmitBatchInput,
  TransactionDraft,
  TransactionOutcome,
} from './mirror-types.js';
import { json, now, nullableNumber, nullableString, toActivity } from './rows.js';
import { ACTIVITY_CHUNK, SQL } from './sql.js';
import type { ActivityRecord, AuditInput } from './types.js';

/** Thrown inside a batch write when an activity was no longer queued; the write rolls back. */
export class ClaimLostError extends Error {
  constructor(expected: number, claimed: number) {
    super(`Only ${claimed} of ${expected} activities were still queued; the batch was not stored`);
  }
}

/**
 * The mirror worker's repository over either dialect. Nonces are taken inside the same write
 * transaction that stores the signed transactions (STYLE rule 15): the next nonce is read from the
 * stored ones, so a failed write leaves no gap and a crash after it leaves everything needed to
 * broadcast again.
 */
export class SqlMirrorStore implements MirrorStore {
  constructor(
    private readonly db: Dialect,
    private readonly audit: AuditChain,
  ) {}

  async claimable(limit: number, at: string): Promise<BatchActivity[]> {
    const rows = await this.db.read(SQL.claimable, [at, limit]);
    return rows.map((row) => ({
      id: String(row.id),
      wallet: String(row.wallet),
      points: String(row.points),
      badgeId: nullableString(row.badge_id),
      badgeAmount: nullableString(row.badge_amount),
      activityRef: String(row.activity_ref),
      detailHash: String(row.detail_hash),
      createdAt: String(row.created_at),
    }));
  }

  submitBatch(input: SubmitBatchInput): Promise<OutboxTransaction[]> {
    return this.audit.write(this.db, async (tx) => {
      const at = now();
      const { batch } = input;
      await tx.query(SQL.insertBatch, [
        batch.id,
        batch.size,
        batch.merkleRoot,
        JSON.stringify(batch.parts),
        at,
      ]);
      let claimed = 0;
      for (let start = 0; start < input.activityIds.length; start += ACTIVITY_CHUNK) {
        const ids = padded(input.activityIds.slice(start, start + ACTIVITY_CHUNK));
        claimed += (await tx.query(SQL.claimActivities, [batch.id, batch.merkleRoot, at, ...ids])).length;
      }
      if (claimed !== input.activityIds.length) throw new ClaimLostError(input.activityIds.length, claimed);
      const stored = await this.signAndStore(
        tx,
        input.signer,
        input.nonceFloor,
        input.drafts,
        input.sign,
        at,
      );
      await this.audit.append(tx, input.audit);
      return stored;
    });
  }

  async unfinishedTransactions(): Promise<OutboxTransaction[]> {
    return (await this.db.read(SQL.unfinishedTransactions, [])).map(toTransaction);
  }

  async rawTransactions(ids: readonly number[]): Promise<Map<number, string>> {
    const raws = new Map<number, string>();
    for (let start = 0; start < ids.length; start += ACTIVITY_CHUNK) {
      const chunk = ids.slice(start, start + ACTIVITY_CHUNK);
      const params = chunk.concat(Array.from({ length: ACTIVITY_CHUNK - chunk.length }, () => chunk[0]!));
      for (const row of await this.db.read<{ id: number; raw_tx: string }>(SQL.rawTransactions, params)) {
        raws.set(Number(row.id), String(row.raw_tx));
      }
    }
    return raws;
  }

  recordOutcomes(outcomes: readonly TransactionOutcome[]): Promise<void> {
    if (outcomes.length === 0) return Promise.resolve();
    return this.db.write(async (tx) => {
      const at = now();
      for (const outcome of outcomes) await recordOutcome(tx, outcome, at);
    });
  }

  resign(input: ResignInput): Promise<OutboxTransaction[]> {
    return this.audit.write(this.db, async (tx) => {
      const at = now();
      for (const outcome of input.replaced) await recordOutcome(tx, outcome, at);
      for (const batchId of input.batchIds) await tx.query(SQL.countBatchAttempt, [batchId, at]);
      const stored = await this.signAndStore(
        tx,
        input.signer,
        input.nonceFloor,
        input.drafts,
        input.sign,
        at,
      );
      await this.audit.append(tx, input.audit);
      return stored;
    });
  }

  replaceWithFiller(id: number, filler: { raw: string; hash: string }, reason: string): Promise<void> {
    return this.db.write(async (tx) => {
      await tx.query(SQL.makeFiller, [id, filler.raw, filler.hash, reason, now()]);
    });
  }

  async batchesInFlight(): Promise<BatchRecord[]> {
    return (await this.db.read(SQL.batchesInFlight)).map(toBatch);
  }

  async lastConfirmedBlock(): Promise<number | null> {
    const [row] = await this.db.read(SQL.lastConfirmedBlock);
    return nullableNumber(row?.block_number);
  }

  async getBatch(id: string): Promise<BatchRecord | undefined> {
    const [row] = await this.db.read(SQL.batchById, [id]);
    return row ? toBatch(row) : undefined;
  }

  async batchTransactions(id: string): Promise<OutboxTransaction[]> {
    return (await this.db.read(SQL.batchTransactions, [id])).map(toTransaction);
  }

  async batchActivities(id: string): Promise<ActivityRecord[]> {
    return (await this.db.read(SQL.batchActivities, [id])).map(toActivity);
  }

  confirmBatch(id: string, blockNumber: number, audit: AuditInput): Promise<void> {
    return this.audit.write(this.db, async (tx) => {
      const at = now();
      const hashes = (await tx.query(SQL.batchTransactions, [id]))
        .filter((row) => row.status === 'mined')
        .map((row) => String(row.tx_hash));
      await tx.query(SQL.confirmBatch, [id, blockNumber, JSON.stringify(hashes), at]);
      await tx.query(SQL.confirmBatchActivities, [id, blockNumber, at]);
      await this.audit.append(tx, audit);
    });
  }

  failBatch(id: string, reason: string, audit: AuditInput): Promise<void> {
    return this.audit.write(this.db, async (tx) => {
      const at = now();
      await tx.query(SQL.failBatch, [id, reason, at]);
      await tx.query(SQL.failBatchActivities, [id, reason, at]);
      await this.audit.append(tx, audit);
    });
  }

  async cursor(name: string): Promise<number> {
    const [row] = await this.db.read<{ block_number: number }>(SQL.cursor, [name]);
    return row ? Number(row.block_number) : -1;
  }

  applyIndexedEvents(events: IndexedEvents): Promise<boolean> {
    return this.db.write(async (tx) => {
      const at = now();
      const moved =
        events.expectedBlock < 0
          ? await tx.query(SQL.insertCursor, [events.cursor, events.toBlock, events.toBlockHash, at])
          : await tx.query(SQL.moveCursor, [
              events.cursor,
              events.toBlock,
              events.toBlockHash,
              at,
              events.expectedBlock,
            ]);
      // Someone reset or advanced the cursor since it was read: apply nothing.
      if (moved.length === 0) return false;
      for (const [address, delta] of events.balanceDeltas) {
        const [row] = await tx.query<{ balance: string }>(SQL.balanceOf, [address]);
        const balance = BigInt(row?.balance ?? '0') + delta;
        await tx.query(SQL.upsertBalance, [address, balance.toString(), events.toBlock, at]);
      }
      for (const [key, delta] of events.badgeDeltas) {
        const [address, badgeId] = key.split('|') as [string, string];
        const [row] = await tx.query<{ amount: string }>(SQL.badgeAmount, [address, badgeId]);
        const amount = BigInt(row?.amount ?? '0') + delta;
        await tx.query(SQL.upsertBadge, [address, badgeId, amount.toString(), events.toBlock, at]);
      }
      return true;
    });
  }

  resetIndex(audit: AuditInput): Promise<void> {
    return this.audit.write(this.db, async (tx) => {
      await tx.query(SQL.clearBalances);
      await tx.query(SQL.clearBadges);
      await tx.query(SQL.clearCursor, [audit.subject]);
      await this.audit.append(tx, audit);
    });
  }

  private async signAndStore(
    tx: Tx,
    signer: string,
    nonceFloor: number,
    drafts: readonly TransactionDraft[],
    sign: SignDrafts,
    at: string,
  ): Promise<OutboxTransaction[]> {
    if (drafts.length === 0) return [];
    const [row] = await tx.query<{ nonce: number | null }>(SQL.maxNonce, [signer]);
    const stored = row?.nonce === null || row?.nonce === undefined ? -1 : Number(row.nonce);
    const firstNonce = Math.max(stored + 1, nonceFloor);
    const signed = await sign(drafts, firstNonce);
    const result: OutboxTransaction[] = [];
    for (const [index, draft] of drafts.entries()) {
      const [inserted] = await tx.query(SQL.insertTransaction, [
        signer,
        firstNonce + index,
        draft.purpose,
        draft.part,
        draft.batchId,
        signed[index]!.raw,
        signed[index]!.hash,
        draft.gasLimit.toString(),
        at,
      ]);
      result.push(toTransaction(inserted!));
    }
    return result;
  }
}

function recordOutcome(tx: Tx, outcome: TransactionOutcome, at: string): Promise<Row[]> {
  return tx.query(SQL.recordOutcome, [
    outcome.id,
    outcome.status,
    outcome.blockNumber ?? null,
    outcome.reason ?? null,
    outcome.attempts ?? null,
    outcome.nextAttemptAt ?? null,
    at,
  ]);
}

/** Pads a short id list by repeating its last id, so every claim uses one prepared statement. */
function padded(ids: string[]): string[] {
  const last = ids[ids.length - 1]!;
  return ids.concat(Array.from({ length: ACTIVITY_CHUNK - ids.length }, () => last));
}

function toTransaction(row: Row): OutboxTransaction {
  return {
    id: Number(row.id),
    signer: String(row.signer),
    nonce: Number(row.nonce),
    purpose: row.purpose as OutboxTransaction['purpose'],
    part: nullableString(row.part),
    batchId: nullableString(row.batch_id),
    txHash: String(row.tx_hash),
    gasLimit: String(row.raw_tx_gas_limit),
    status: row.status as OutboxTransaction['status'],
    blockNumber: nullableNumber(row.block_number),
    reason: nullableString(row.reason),
    attempts: Number(row.attempts),
    nextAttemptAt: nullableString(row.next_attempt_at),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

function toBatch(row: Row): BatchRecord {
  return {
    id: String(row.id),
    status: row.status as BatchRecord['status'],
    size: Number(row.size),
    merkleRoot: String(row.merkle_root),
    parts: json<BatchPart[]>(row.parts, []),
    blockNumber: nullableNumber(row.block_number),
    reason: nullableString(row.reason),
    attempts: Number(row.attempts),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}
