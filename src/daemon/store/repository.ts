import { canonicalJson } from '../canonical-json.js';
import { AUDIT_GENESIS_HASH, AuditChain, auditEntryProblem } from './audit.js';
import type { Dialect, Row, Tx } from './dialect.js';
import { insertedActivity, now, toActivity, toAuditEntry, toWallet } from './rows.js';
import { SqlMirrorStore } from './mirror-repository.js';
import type { MirrorStore } from './mirror-types.js';
import { SQL } from './sql.js';
import {
  STORE_TABLES,
  type ActivityRecord,
  type AuditEntry,
  type AuditInput,
  type AuditVerification,
  type EnsureWalletInput,
  type Holdings,
  type InsertActivityResult,
  type NewActivity,
  type Store,
  type StoreTable,
  type WalletRecord,
} from './types.js';

const AUDIT_PAGE = 1_000;

/** Thrown inside a transaction that lost a race to create a user's wallet; it rolls back. */
class LostWalletRace extends Error {}

/**
 * The repository over either dialect: the same SQL and the same logic for SQLite and PostgreSQL.
 *
 * Audit trail: each append reads the last entry and chains to it inside the same transaction as
 * the change it records, so an entry exists exactly when its change committed. Appends must be
 * serial, and are: every write goes through the dialect's group commit, one group at a time,
 * and each group holds the database's write lock (SQLite) or the audit advisory lock
 * (PostgreSQL, so that two daemons on one database also chain in turn).
 */
export class SqlStore implements Store {
  private readonly audit = new AuditChain();
  /** The mirror worker's side, sharing this store's connections and audit chain. */
  readonly mirror: MirrorStore;

  constructor(private readonly db: Dialect) {
    this.mirror = new SqlMirrorStore(db, this.audit);
  }

  get dialect(): 'sqlite' | 'postgres' {
    return this.db.name;
  }

  async ping(): Promise<void> {
    await this.db.read(SQL.ping);
  }

  async findWallet(userId: string): Promise<WalletRecord | undefined> {
    const [row] = await this.db.read(SQL.walletByUser, [userId]);
    return row ? toWallet(row) : undefined;
  }

  async ensureWallet(input: EnsureWalletInput): Promise<{ wallet: WalletRecord; created: boolean }> {
    const existing = await this.findWallet(input.userId);
    if (existing) return { wallet: existing, created: false };
    try {
      return await this.write(async (tx) => {
        // Another write of the same group may have created it since the read above.
        const [again] = await tx.query(SQL.walletByUser, [input.userId]);
        if (again) return { wallet: toWallet(again), created: false };
        const [taken] = await tx.query<{ value: number }>(SQL.takeWalletIndex);
        const index = Number(taken!.value);
        const { address, did } = input.derive(index);
        const [row] = await tx.query(SQL.insertWallet, [input.userId, index, address, did, now()]);
        // Another daemon on the same PostgreSQL database created it and committed first. Rolling
        // back also returns the index we took, so indexes stay dense.
        if (!row) throw new LostWalletRace();
        const wallet = toWallet(row);
        await this.appendIn(tx, input.audit(wallet));
        return { wallet, created: true };
      });
    } catch (error) {
      if (!(error instanceof LostWalletRace)) throw error;
      const winner = await this.findWallet(input.userId);
      if (!winner) throw error;
      return { wallet: winner, created: false };
    }
  }

  async findActivityByKey(idempotencyKey: string): Promise<ActivityRecord | undefined> {
    const [row] = await this.db.read(SQL.activityByKey, [idempotencyKey]);
    return row ? toActivity(row) : undefined;
  }

  insertActivity(activity: NewActivity, audit: AuditInput): Promise<InsertActivityResult> {
    const compare = (row: Row): InsertActivityResult => {
      const earlier = toActivity(row);
      return {
        outcome: earlier.requestHash === activity.requestHash ? 'replayed' : 'conflict',
        activity: earlier,
      };
    };
    return this.write(async (tx) => {
      const createdAt = now();
      const [row] = await tx.query(SQL.insertActivity, [
        activity.id,
        activity.idempotencyKey,
        activity.requestHash,
        activity.kind,
        activity.userId,
        activity.wallet,
        activity.type,
        activity.occurredAt,
        activity.payload === null ? null : canonicalJson(activity.payload),
        activity.points,
        activity.badgeId,
        activity.badgeAmount,
        activity.activityRef,
        activity.detailHash,
        createdAt,
      ]);
      if (!row) {
        // The key is taken: by an earlier request, one earlier in this group, or another daemon.
        const [earlier] = await tx.query(SQL.activityByKey, [activity.idempotencyKey]);
        return compare(earlier!);
      }
      await this.appendIn(tx, audit);
      return { outcome: 'created', activity: insertedActivity(activity, createdAt) };
    });
  }

  async getActivity(id: string): Promise<ActivityRecord | undefined> {
    const [row] = await this.db.read(SQL.activityById, [id]);
    return row ? toActivity(row) : undefined;
  }

  async queueDepth(): Promise<number> {
    const [row] = await this.db.read<{ n: number }>(SQL.queueDepth);
    return Number(row?.n ?? 0);
  }

  async holdings(address: string): Promise<Holdings> {
    const [balance] = await this.db.read<{ balance: string }>(SQL.balanceOf, [address]);
    const badges = await this.db.read<{ badge_id: string; amount: string }>(SQL.badgesOf, [address]);
    return {
      balance: balance?.balance ?? '0',
      badges: badges.map((row) => ({ id: row.badge_id, amount: row.amount })),
    };
  }

  appendAudit(entry: AuditInput): Promise<AuditEntry> {
    return this.write((tx) => this.appendIn(tx, entry));
  }

  async verifyAudit(): Promise<AuditVerification> {
    let prevHash = AUDIT_GENESIS_HASH;
    let checked = 0;
    for (;;) {
      const rows = await this.db.read(SQL.auditPage, [checked, AUDIT_PAGE]);
      for (const row of rows) {
        let entry: AuditEntry;
        let problem: string | undefined;
        try {
          entry = toAuditEntry(row);
          problem = auditEntryProblem(entry, checked + 1, prevHash);
        } catch {
          return { ok: false, entries: checked, brokenAt: checked + 1, reason: 'its details are not JSON' };
        }
        if (problem) return { ok: false, entries: checked, brokenAt: checked + 1, reason: problem };
        prevHash = entry.hash;
        checked += 1;
      }
      if (rows.length < AUDIT_PAGE) return { ok: true, entries: checked, head: prevHash };
    }
  }

  async rowCounts(): Promise<Record<StoreTable, number>> {
    const counts = {} as Record<StoreTable, number>;
    for (const table of STORE_TABLES) {
      const [row] = await this.db.read<{ n: number }>(SQL.countRows(table));
      counts[table] = Number(row?.n ?? 0);
    }
    return counts;
  }

  stats() {
    return this.db.stats();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.audit.write(this.db, work);
  }

  private appendIn(tx: Tx, input: AuditInput): Promise<AuditEntry> {
    return this.audit.append(tx, input);
  }
}
