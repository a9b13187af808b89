import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openPostgres } from '../../src/daemon/store/dialects/postgres.js';
import { openSqlite } from '../../src/daemon/store/dialects/sqlite.js';
import { MIGRATIONS } from '../../src/daemon/store/migrations/index.js';
import { openStore } from '../../src/daemon/store/open.js';
import { SqlStore } from '../../src/daemon/store/repository.js';
import { SQL } from '../../src/daemon/store/sql.js';
import type { AuditEntry, AuditInput, NewActivity, Store } from '../../src/daemon/store/types.js';
import { describeWithPostgres } from '../support/postgres.js';
import { aTempDir } from '../support/temp-dir.js';

/** A database the suite can open (again) and reach around the store to inspect or tamper. */
interface Backend {
  url: string;
  /** Runs one statement outside the store, as an operator with database access could. */
  raw(sql: string): Promise<Record<string, unknown>[]>;
}

async function anSqliteBackend(): Promise<Backend> {
  const url = `sqlite://${join(await aTempDir(), 'adapter.db')}`;
  return {
    url,
    raw: async (sql) => {
      const db = new Database(url.slice('sqlite://'.length));
      try {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all() as Record<string, unknown>[];
        statement.run();
        return [];
      } finally {
        db.close();
      }
    },
  };
}

function aPostgresBackend(schemaUrl: string): Backend {
  return {
    url: schemaUrl,
    raw: async (sql) => {
      const client = new pg.Client({ connectionString: schemaUrl });
      await client.connect();
      try {
        return (await client.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
  };
}

async function anOpenStore(backend: Backend, groupCommitMaxDelayMs = 2): Promise<Store> {
  const { store } = await openStore({
    url: backend.url,
    groupCommit: { maxDelayMs: groupCommitMaxDelayMs, maxBatch: 500 },
  });
  onTestFinished(() => store.close());
  return store;
}

function anActivity(overrides: Partial<NewActivity> = {}): NewActivity {
  const id = randomUUID();
  return {
    id,
    idempotencyKey: `key-${id}`,
    requestHash: 'a'.repeat(64),
    kind: 'activity',
    userId: 'user-1',
    wallet: '0x00000000000000000000000000000000000000aa',
    type: 'login',
    occurredAt: '2026-11-24T10:00:00.000Z',
    payload: { screen: 'home', nested: { b: 2, a: 1 } },
    points: '10',
    badgeId: null,
    badgeAmount: null,
    activityRef: `0x${randomUUID().replace(/-/g, '').padEnd(64, '0')}`,
    detailHash: `0x${'d'.repeat(64)}`,
    ...overrides,
  };
}

function anAudit(subject: string): AuditInput {
  return { actor: 'backend', action: 'activity.track', subject, details: { userId: 'user-1' } };
}

const derive = (index: number) => {
  const address = `0x${index.toString(16).padStart(40, '0')}`;
  return { address, did: `did:peruri:${address}` };
};

/**
 * Brings a fresh database to the schema of migration `version`, as an older daemon left it,
 * and lets `fill` write to it through the store at that schema.
 */
async function migratedTo(
  url: string,
  version: number,
  fill?: (store: SqlStore) => Promise<void>,
): Promise<void> {
  const dialect = url.startsWith('sqlite://')
    ? openSqlite({ path: url.slice('sqlite://'.length), groupCommit: { maxDelayMs: 0, maxBatch: 1 } })
    : openPostgres({ url, password: undefined, poolSize: 1, groupCommit: { maxDelayMs: 0, maxBatch: 1 } });
  try {
    await dialect.migrate(MIGRATIONS.filter((migration) => migration.version <= version));
    await fill?.(new SqlStore(dialect));
  } finally {
    await dialect.close();
  }
}

/** A batch row the worker has submitted, written around the store. */
async function aSubmittedBatch(backend: Backend, id: string, size: number): Promise<void> {
  await backend.raw(
    `INSERT INTO batches (id, merkle_root, size, status, created_at, updated_at) VALUES ('${id}', '0x${'ab'.repeat(32)}', ${size}, 'submitted', '2026-11-24T10:00:00Z', '2026-11-24T10:00:00Z')`,
  );
}

async function indexesOf(backend: Backend, table: string): Promise<string[]> {
  const rows = backend.url.startsWith('sqlite://')
    ? await backend.raw(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '${table}'`)
    : await backend.raw(`SELECT indexname AS name FROM pg_indexes WHERE tablename = '${table}'`);
  return rows.map((row) => String(row.name)).sort();
}

function storeSuite(aBackend: () => Promise<Backend>): void {
  it('creates the schema once: a second open applies no migration', async () => {
    // Given a fresh database
    const backend = await aBackend();
    // When the store is opened twice
    const first = await openStore({ url: backend.url });
    await first.store.close();
    const second = await openStore({ url: backend.url });
    await second.store.close();
    // Then the first open migrated and the second found the schema current
    expect(first.applied).toEqual([1, 2, 3, 4, 5]);
    expect(second.applied).toEqual([]);
    expect(await backend.raw('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'mirror-outbox' },
      { version: 3, name: 'activity-ref-not-indexed' },
      { version: 4, name: 'audit-hash-not-indexed' },
      { version: 5, name: 'activity-indexes-partial' },
    ]);
  });

  it('migration 3 keeps every activity and its indexes, and no longer indexes activity_ref', async () => {
    // Given a database at migration 2 holding two activities, one of them in a batch
    const backend = await aBackend();
    await migratedTo(backend.url, 2);
    const [queued, batched] = [anActivity(), anActivity({ badgeId: '3', badgeAmount: '1', payload: null })];
    await aSubmittedBatch(backend, 'b1', 1);
    for (const [activity, batch] of [
      [queued, null],
      [batched, 'b1'],
    ] as const) {
      await backend.raw(
        `INSERT INTO activities (id, idempotency_key, request_hash, kind, user_id, wallet, type, occurred_at, payload, points, badge_id, badge_amount, activity_ref, detail_hash, status, batch_id, tx_hashes, attempts, created_at, updated_at)
         VALUES ('${activity.id}', '${activity.idempotencyKey}', '${activity.requestHash}', 'activity', '${activity.userId}', '${activity.wallet}', '${activity.type}', '${activity.occurredAt}', ${activity.payload ? `'${JSON.stringify(activity.payload)}'` : 'NULL'}, '${activity.points}', ${activity.badgeId ? `'${activity.badgeId}'` : 'NULL'}, ${activity.badgeAmount ? `'${activity.badgeAmount}'` : 'NULL'}, '${activity.activityRef}', '${activity.detailHash}', '${batch ? 'submitted' : 'queued'}', ${batch ? `'${batch}'` : 'NULL'}, '[]', 0, '2026-11-24T10:00:01Z', '2026-11-24T10:00:01Z')`,
      );
    }
    // When the store opens it
    const { store, applied } = await openStore({ url: backend.url });
    onTestFinished(() => store.close());
    // Then migration 3 ran (and the later ones) and both activities read back as they were
    expect(applied).toEqual([3, 4, 5]);
    expect(await store.getActivity(queued.id)).toMatchObject({ ...queued, status: 'queued', batchId: null });
    expect(await store.getActivity(batched.id)).toMatchObject({
      ...batched,
      status: 'submitted',
      batchId: 'b1',
    });
    expect(await store.queueDepth()).toBe(1);
    // And the worker's indexes are back, the idempotency key is still unique, the ref is not
    expect(await indexesOf(backend, 'activities')).toEqual(
      expect.arrayContaining(['activities_batch', 'activities_queued']),
    );
    const again = anActivity({ activityRef: queued.activityRef });
    await expect(store.insertActivity(again, anAudit(again.id))).resolves.toMatchObject({
      outcome: 'created',
    });
    const reused = anActivity({ idempotencyKey: queued.idempotencyKey, requestHash: 'b'.repeat(64) });
    await expect(store.insertActivity(reused, anAudit(reused.id))).resolves.toMatchObject({
      outcome: 'conflict',
    });
  });

  it('migration 4 keeps the audit chain and its guards, and no longer indexes the hash', async () => {
    // Given a database at migration 3 whose trail holds three entries
    const backend = await aBackend();
    const before: AuditEntry[] = [];
    await migratedTo(backend.url, 3, async (older) => {
      for (const subject of ['a', 'b', 'c']) before.push(await older.appendAudit(anAudit(subject)));
    });
    // When the store opens it
    const { store, applied } = await openStore({ url: backend.url });
    onTestFinished(() => store.close());
    // Then migration 4 ran, the trail verifies as it was, and a new entry chains to its head
    expect(applied).toEqual([4, 5]);
    expect(await store.verifyAudit()).toEqual({ ok: true, entries: 3, head: before[2]!.hash });
    expect(await store.appendAudit(anAudit('d'))).toMatchObject({ seq: 4, prevHash: before[2]!.hash });
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 4 });
    // And the table is still append-only, indexed by its sequence number alone
    await expect(backend.raw("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")).rejects.toThrow(
      /append-only/,
    );
    await expect(backend.raw('DELETE FROM audit_log WHERE seq = 1')).rejects.toThrow(/append-only/);
    expect(await indexesOf(backend, 'audit_log')).toEqual(
      backend.url.startsWith('sqlite://') ? [] : ['audit_log_pkey'],
    );
  });

  it('migration 5 indexes only the queue and the batched rows, and the worker still finds them', async () => {
    // Given a database at migration 4 with a queued, a submitted and a confirmed activity
    const backend = await aBackend();
    const [queued, submitted, confirmed] = [anActivity(), anActivity(), anActivity()];
    await migratedTo(backend.url, 4, async (older) => {
      for (const activity of [queued, submitted, confirmed]) {
        await older.insertActivity(activity, anAudit(activity.id));
      }
    });
    await aSubmittedBatch(backend, 'b1', 2);
    await backend.raw(
      `UPDATE activities SET status = 'submitted', batch_id = 'b1' WHERE id IN ('${submitted.id}', '${confirmed.id}')`,
    );
    await backend.raw(`UPDATE activities SET status = 'confirmed' WHERE id = '${confirmed.id}'`);
    // When the store opens it
    const { store, applied } = await openStore({ url: backend.url });
    onTestFinished(() => store.close());
    // Then migration 5 ran, the old indexes are gone and the partial ones are there
    expect(applied).toEqual([5]);
    const indexes = await indexesOf(backend, 'activities');
    expect(indexes).toEqual(expect.arrayContaining(['activities_batch', 'activities_queued']));
    expect(indexes).not.toContain('activities_status_created');
    // And the queue, the claim and the batch's rows read as before
    expect(await store.queueDepth()).toBe(1);
    expect((await store.mirror.claimable(10, '9999-12-31T00:00:00.000Z')).map((row) => row.id)).toEqual([
      queued.id,
    ]);
    expect(
      (await backend.raw("SELECT id FROM activities WHERE batch_id = 'b1' ORDER BY id")).map((row) => row.id),
    ).toEqual([submitted.id, confirmed.id].sort());
    if (backend.url.startsWith('sqlite://')) {
      // SQLite takes a partial index only when the query names its condition: these must keep doing so
      const plan = async (sql: string) =>
        (await backend.raw(`EXPLAIN QUERY PLAN ${sql}`)).map((row) => String(row.detail)).join('; ');
      expect(await plan(SQL.claimable.replace('$1', "'9999'").replace('$2', '10'))).toMatch(
        /USING (COVERING )?INDEX activities_queued/,
      );
      expect(await plan(SQL.queueDepth)).toMatch(/USING (COVERING )?INDEX activities_queued/);
      expect(
        await plan(SQL.confirmBatchActivities.replace('$1', "'b1'").replace('$2', '1').replace('$3', "'x'")),
      ).toMatch(/USING INDEX activities_batch/);
    }
  });

  it('answers a readiness ping and counts rows of every table', async () => {
    const store = await anOpenStore(await aBackend());
    await expect(store.ping()).resolves.toBeUndefined();
    expect(await store.rowCounts()).toEqual({
      wallets: 0,
      activities: 0,
      batches: 0,
      transactions: 0,
      chain_cursor: 0,
      token_balances: 0,
      badge_holdings: 0,
      audit_log: 0,
    });
  });

  it("creates a user's wallet on first sight, then returns the same one", async () => {
    // Given an empty store
    const store = await anOpenStore(await aBackend());
    const audit = () => ({ actor: 'backend', action: 'wallet.create', subject: 'x', details: {} });
    // When two users are seen, the first one twice
    const first = await store.ensureWallet({ userId: 'alice', derive, audit });
    const again = await store.ensureWallet({ userId: 'alice', derive, audit });
    const bob = await store.ensureWallet({ userId: 'bob', derive, audit });
    // Then alice has index 0 (created once), bob index 1, and each creation was audited
    expect(first).toMatchObject({
      created: true,
      wallet: { userId: 'alice', index: 0, custody: 'custodial' },
    });
    expect(again).toEqual({ created: false, wallet: first.wallet });
    expect(bob.wallet).toMatchObject({ index: 1, address: derive(1).address, did: derive(1).did });
    expect((await store.rowCounts()).audit_log).toBe(2);
    expect(await store.findWallet('nobody')).toBeUndefined();
  });

  it('gives 5 users 5 wallets with distinct indexes under 50 parallel first sights', async () => {
    // Given an empty store
    const store = await anOpenStore(await aBackend());
    const users = ['u0', 'u1', 'u2', 'u3', 'u4'];
    // When each user is seen by 10 concurrent requests at once
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.ensureWallet({
          userId: users[i % 5]!,
          derive,
          audit: (wallet) => ({
            actor: 'backend',
            action: 'wallet.create',
            subject: wallet.address,
            details: {},
          }),
        }),
      ),
    );
    // Then there are exactly 5 wallets, indexes 0..4, each created once and agreed on by all callers
    expect((await store.rowCounts()).wallets).toBe(5);
    expect(results.filter((result) => result.created)).toHaveLength(5);
    const byUser = new Map<string, Set<string>>();
    for (const { wallet } of results) {
      byUser.set(wallet.userId, (byUser.get(wallet.userId) ?? new Set()).add(wallet.address));
    }
    expect([...byUser.values()].map((addresses) => addresses.size)).toEqual([1, 1, 1, 1, 1]);
    const indexes = await Promise.all(users.map(async (user) => (await store.findWallet(user))!.index));
    expect(indexes.sort()).toEqual([0, 1, 2, 3, 4]);
    expect((await store.rowCounts()).audit_log).toBe(5);
  });

  it('stores an activity once per idempotency key: same request replays, another conflicts', async () => {
    // Given a stored activity
    const store = await anOpenStore(await aBackend());
    const activity = anActivity();
    const created = await store.insertActivity(activity, anAudit(activity.id));
    // When the same key comes again with the same request, and then with a different one
    const replay = await store.insertActivity(
      { ...anActivity(), idempotencyKey: activity.idempotencyKey },
      anAudit('x'),
    );
    const conflict = await store.insertActivity(
      { ...anActivity(), idempotencyKey: activity.idempotencyKey, requestHash: 'b'.repeat(64) },
      anAudit('y'),
    );
    // Then the first is queued as given, the replay and the conflict both point at it
    expect(created.outcome).toBe('created');
    expect(created.activity).toMatchObject({
      id: activity.id,
      status: 'queued',
      points: '10',
      payload: { screen: 'home', nested: { a: 1, b: 2 } },
      txHashes: [],
      proof: null,
      blockNumber: null,
      attempts: 0,
      occurredAt: '2026-11-24T10:00:00.000Z',
    });
    expect(replay).toEqual({ outcome: 'replayed', activity: created.activity });
    expect(conflict).toEqual({ outcome: 'conflict', activity: created.activity });
    // And only the first one was stored and audited
    const counts = await store.rowCounts();
    expect([counts.activities, counts.audit_log]).toEqual([1, 1]);
    expect(await store.getActivity(activity.id)).toEqual(created.activity);
    expect(await store.findActivityByKey(activity.idempotencyKey)).toEqual(created.activity);
    expect(await store.getActivity(randomUUID())).toBeUndefined();
    expect(await store.queueDepth()).toBe(1);
  });

  it('keeps exactly 10 rows from 100 parallel inserts over 10 idempotency keys', async () => {
    // Given 100 requests that use 10 keys, 10 requests per key, all identical per key
    const store = await anOpenStore(await aBackend());
    const requests = Array.from({ length: 100 }, (_, i) => {
      const key = `key-${i % 10}`;
      return { ...anActivity(), idempotencyKey: key, requestHash: key.padEnd(64, '0') };
    });
    // When they are all inserted at once
    const results = await Promise.all(
      requests.map((request) => store.insertActivity(request, anAudit(request.id))),
    );
    // Then each key has one row, 10 were created and 90 replayed the winner of their key
    expect((await store.rowCounts()).activities).toBe(10);
    expect(results.filter((result) => result.outcome === 'created')).toHaveLength(10);
    expect(results.filter((result) => result.outcome === 'replayed')).toHaveLength(90);
    const winners = new Map<string, Set<string>>();
    for (const { activity } of results) {
      winners.set(
        activity.idempotencyKey,
        (winners.get(activity.idempotencyKey) ?? new Set()).add(activity.id),
      );
    }
    expect([...winners.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(await store.queueDepth()).toBe(10);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 10 });
  });

  it('reads cached balances and badges, 0 and none until the worker fills them', async () => {
    // Given a wallet with nothing cached, and one with a cached balance and badges
    const backend = await aBackend();
    const store = await anOpenStore(backend);
    const rich = '0x00000000000000000000000000000000000000bb';
    await backend.raw(
      `INSERT INTO token_balances (address, balance, block_number, updated_at) VALUES ('${rich}', '1000000000000000000000', 7, '2026-11-24T10:00:00Z')`,
    );
    await backend.raw(
      `INSERT INTO badge_holdings (address, badge_id, amount, block_number, updated_at) VALUES ('${rich}', '2', '1', 7, '2026-11-24T10:00:00Z'), ('${rich}', '1', '1', 7, '2026-11-24T10:00:00Z'), ('${rich}', '3', '0', 7, '2026-11-24T10:00:00Z')`,
    );
    // Then the empty wallet reads 0 and [], the other its balance and held badges in id order
    expect(await store.holdings('0x00000000000000000000000000000000000000aa')).toEqual({
      balance: '0',
      badges: [],
    });
    expect(await store.holdings(rich)).toEqual({
      balance: '1000000000000000000000',
      badges: [
        { id: '1', amount: '1' },
        { id: '2', amount: '1' },
      ],
    });
  });

  it('chains the audit trail, refuses edits, and finds a tampered or deleted entry', async () => {
    // Given three audit entries
    const backend = await aBackend();
    const store = await anOpenStore(backend);
    const entries = [];
    for (const subject of ['a', 'b', 'c']) entries.push(await store.appendAudit(anAudit(subject)));
    // Then they are numbered and chained, and the chain verifies
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(await store.verifyAudit()).toEqual({ ok: true, entries: 3, head: entries[2]!.hash });
    // And the table itself refuses an update
    await expect(backend.raw("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")).rejects.toThrow(
      /append-only/,
    );
    // When someone with full database access drops the guard and rewrites entry 2
    await dropAuditGuards(backend);
    await backend.raw(`UPDATE audit_log SET details = '{"userId":"user-2"}' WHERE seq = 2`);
    // Then verification points at entry 2
    expect(await store.verifyAudit()).toEqual({
      ok: false,
      entries: 1,
      brokenAt: 2,
      reason: 'its content does not match its hash',
    });
  });

  it('commits 100 concurrent inserts in fewer commits than inserts (group commit)', async () => {
    // Given a store whose writes wait up to 5 ms for company
    const store = await anOpenStore(await aBackend(), 5);
    const before = store.stats();
    // When 100 activities arrive at once
    await Promise.all(
      Array.from({ length: 100 }, () => {
        const activity = anActivity();
        return store.insertActivity(activity, anAudit(activity.id));
      }),
    );
    // Then all 100 are stored, with far fewer commits (one fsync each)
    const after = store.stats();
    expect(after.writes - before.writes).toBe(100);
    expect(after.commits - before.commits).toBeLessThan(10);
    expect((await store.rowCounts()).activities).toBe(100);
  });

  it('rolls back only the failing write of a group; the others commit', async () => {
    // Given three activities, the second of a kind the schema refuses (a CHECK constraint)
    const store = await anOpenStore(await aBackend(), 5);
    const writes = [anActivity(), anActivity({ kind: 'refund' as NewActivity['kind'] }), anActivity()].map(
      (activity) => store.insertActivity(activity, anAudit(activity.id)),
    );
    // When they share a group
    const outcomes = await Promise.allSettled(writes);
    // Then the second fails alone, and the audit chain holds exactly the two stored ones
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.rowCounts()).activities).toBe(2);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 2 });
    expect(store.stats().commits).toBe(1);
  });

  it('finds a deleted audit entry by the gap it leaves', async () => {
    const backend = await aBackend();
    const store = await anOpenStore(backend);
    for (const subject of ['a', 'b', 'c']) await store.appendAudit(anAudit(subject));
    await dropAuditGuards(backend);
    await backend.raw('DELETE FROM audit_log WHERE seq = 2');
    expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 2 });
  });
}

async function dropAuditGuards(backend: Backend): Promise<void> {
  if (backend.url.startsWith('sqlite:')) {
    await backend.raw('DROP TRIGGER audit_log_no_update');
    await backend.raw('DROP TRIGGER audit_log_no_delete');
  } else {
    await backend.raw('DROP TRIGGER audit_log_no_change ON audit_log');
  }
}

describe('store on SQLite', () => {
  storeSuite(anSqliteBackend);

  it('has every resolved write on disk: a new connection sees it, and a reopened store too', async () => {
    // Given a store that accepted an activity
    const backend = await anSqliteBackend();
    const { store } = await openStore({ url: backend.url });
    const activity = anActivity();
    await store.insertActivity(activity, anAudit(activity.id));
    // Then another connection sees it at once (committed, not in a pending group)
    expect(await backend.raw(`SELECT id FROM activities WHERE id = '${activity.id}'`)).toEqual([
      { id: activity.id },
    ]);
    // And after closing and reopening, it is there with its audit chain
    await store.close();
    const reopened = await anOpenStore(backend);
    expect((await reopened.getActivity(activity.id))?.idempotencyKey).toBe(activity.idempotencyKey);
    expect(await reopened.verifyAudit()).toMatchObject({ ok: true, entries: 1 });
    // And the database runs in WAL mode with full fsync
    expect(await backend.raw('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
  });
});

describeWithPostgres('store on PostgreSQL', (postgres) => {
  storeSuite(async () => aPostgresBackend(await postgres.aSchemaUrl()));

  it('keeps wallets, keys and the audit chain right with two daemons writing to one database', async () => {
    // Given two stores (two daemon processes) on the same database
    const backend = aPostgresBackend(await postgres.aSchemaUrl());
    const stores = [await anOpenStore(backend), await anOpenStore(backend)];
    // When both see the same 5 new users and the same 10 idempotency keys at once
    const wallets = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        stores[i % 2]!.ensureWallet({
          userId: `u${i % 5}`,
          derive,
          audit: (wallet) => ({
            actor: 'backend',
            action: 'wallet.create',
            subject: wallet.address,
            details: {},
          }),
        }),
      ),
    );
    const inserts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const key = `key-${i % 10}`;
        const activity = { ...anActivity(), idempotencyKey: key, requestHash: key.padEnd(64, '0') };
        return stores[i % 2]!.insertActivity(activity, anAudit(activity.id));
      }),
    );
    // Then there are 5 wallets and 10 activities, each made once, and one unbroken audit chain
    expect(wallets.filter((result) => result.created)).toHaveLength(5);
    expect(inserts.filter((result) => result.outcome === 'created')).toHaveLength(10);
    const counts = await stores[0]!.rowCounts();
    expect([counts.wallets, counts.activities]).toEqual([5, 10]);
    expect(await stores[1]!.verifyAudit()).toMatchObject({ ok: true, entries: 15 });
  });
});
