import pg from 'pg';
import { ErrorCodes, RemoteError } from '../../../core/errors.js';
import type { Dialect, Row, SqlValue, Tx } from '../dialect.js';
import { GroupCommitter, type GroupCommitOptions, type GroupSession } from '../group-commit.js';
import type { Migration } from '../migrations/index.js';

export interface OpenPostgresOptions {
  /** postgres://user@host:port/database (the password comes separately). */
  url: string;
  password: string | undefined;
  poolSize: number;
  groupCommit: GroupCommitOptions;
  /** Told about errors of idle pooled connections (the pool replaces them). */
  onIdleError?: (error: Error) => void;
}

// Arbitrary constants naming the two advisory locks of the daemon (pg_advisory_xact_lock(bigint)).
const MIGRATION_LOCK = 72_616_001;
const AUDIT_LOCK = 72_616_002;

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (value: string) => Date;

/**
 * Opens a PostgreSQL pool for the daemon. Reads use the pool; writes go through group commit on
 * one connection at a time, each group holding the audit chain's advisory lock from its BEGIN.
 *
 * Why not one ordinary transaction per write and PostgreSQL's own WAL group commit: every write
 * appends to the hash-chained audit trail, so writes must chain in turn, and a lock held through
 * each COMMIT's WAL flush serialised them (about 400 requests/s measured here). One transaction
 * per group flushes once for the whole group. With the default `synchronous_commit=on`, a COMMIT
 * returns once its WAL record is flushed, so a resolved write survives a crash or power loss.
 *
 * BIGINT columns come back as numbers and TIMESTAMPTZ columns as ISO-8601 text, as from SQLite.
 * @param options - URL, password, pool size, group commit settings
 * @returns the dialect (connections are made on first use)
 */
export function openPostgres(options: OpenPostgresOptions): Dialect {
  const pool = new pg.Pool({
    connectionString: options.url,
    password: options.password,
    max: options.poolSize,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'peruri-chain-adapter',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8_OID) return (value: string) => Number(value);
        if (oid === TIMESTAMPTZ_OID) return (value: string) => parseTimestamp(value).toISOString();
        return pg.types.getTypeParser(oid, format ?? 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  return new PostgresDialect(pool, options.url, options.groupCommit);
}

class PostgresDialect implements Dialect {
  readonly name = 'postgres' as const;
  private readonly committer: GroupCommitter;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    groupCommit: GroupCommitOptions,
  ) {
    // Two daemons on one database chain the audit trail in turn: each group takes the lock first.
    this.committer = new GroupCommitter(() => this.session(), groupCommit, [
      'BEGIN',
      `SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`,
    ]);
  }

  async read<R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params as SqlValue[])).rows;
    } catch (error) {
      throw this.translate(error);
    }
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.committer.submit(work).catch((error: unknown) => {
      throw this.translate(error);
    });
  }

  async migrate(migrations: readonly Migration[]): Promise<number[]> {
    const client = await this.connect();
    const applied: number[] = [];
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)',
      );
      const done = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (row) => row.version,
        ),
      );
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await client.query(migration.postgres);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          new Date().toISOString(),
        ]);
        applied.push(migration.version);
      }
      await client.query('COMMIT');
      return applied;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.translate(error);
    } finally {
      client.release();
    }
  }

  stats() {
    return this.committer.stats();
  }

  async close(): Promise<void> {
    await this.committer.close();
    await this.pool.end();
  }

  private async session(): Promise<GroupSession> {
    const client = await this.connect();
    return {
      exec: async (sql) => {
        await client.query(sql);
      },
      tx: {
        query: async <R extends Row>(sql: string, params: readonly SqlValue[] = []) =>
          (await client.query<R>(sql, params as SqlValue[])).rows,
      },
      release: (broken) => client.release(broken),
    };
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (cause) {
      throw failure(
        `cannot connect to PostgreSQL at ${shown(this.url)}: ${describe(cause)}`,
        this.url,
        cause,
      );
    }
  }

  private translate(error: unknown): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention, shutdown),
    // 58 (system error); socket errors carry Node's E* codes.
    const message = error instanceof Error ? error.message : '';
    if (
      (typeof code === 'string' && (/^(08|53|57|58)/.test(code) || /^E[A-Z]+$/.test(code))) ||
      /Connection terminated|timeout exceeded when trying to connect/i.test(message)
    ) {
      return failure(`PostgreSQL at ${shown(this.url)} failed: ${describe(error)}`, this.url, error);
    }
    return error;
  }
}

function failure(message: string, url: string, cause: unknown): RemoteError {
  return new RemoteError(ErrorCodes.DATABASE_FAILED, message, {
    host: shown(url),
    hint: 'Check that PostgreSQL is running and reachable, and the database URL and password.',
    cause,
  });
}

function shown(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.search = '';
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}
