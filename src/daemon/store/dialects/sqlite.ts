import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, RemoteError } from '../../../core/errors.js';
import type { Dialect, Row, SqlValue, Tx } from '../dialect.js';
import { GroupCommitter, type GroupCommitOptions, type GroupSession } from '../group-commit.js';
import type { Migration } from '../migrations/index.js';

export interface OpenSqliteOptions {
  /** Absolute path of the database file; created with its folder when missing. */
  path: string;
  groupCommit: GroupCommitOptions;
}

/**
 * A prepared statement and, for each of its `?` in order, which of the caller's parameters it
 * takes; undefined when they are the parameters as given ($1, $2, ... each once, in order).
 */
interface Prepared {
  statement: Database.Statement<SqlValue[], Row>;
  order: number[] | undefined;
}

/**
 * Page cache per connection, in KiB as SQLite's negative cache_size counts. better-sqlite3 builds
 * SQLite with 16 MiB; 8 MiB holds the hot index pages of intake and the worker, and the OS page
 * cache serves the rest, which keeps the daemon's memory target (bench/RESULTS.md).
 */
const PAGE_CACHE_KIB = -8192;

/**
 * Log pages after which a commit checkpoints (SQLite's default is 1,000). A checkpoint copies each
 * page the log holds once however often it was rewritten, and intake rewrites the same few
 * (the tables' tails, index roots) in every group, so checkpointing a longer log copies less per
 * activity: 4,000 pages (16 MiB of log) gave 7 % more intake in three A/B pairs
 * (bench/RESULTS.md, durable intake).
 */
const WAL_AUTOCHECKPOINT_PAGES = 4000;

/**
 * Opens an SQLite database for the daemon: one writer connection whose writes go through group
 * commit, and one read-only connection for everything else, so a read never sees a group that is
 * still open. better-sqlite3 is synchronous: a group's statements and its COMMIT run on the event
 * loop, well under a millisecond for a group.
 *
 * Durability: `journal_mode=WAL`. Every COMMIT appends the group to the write-ahead log, and the
 * group's callers are answered only after that log is fsynced, so a write reported committed (an
 * activity answered 202) survives a crash of the process AND a power loss or kernel crash,
 * provided the disk honours fsync. The fsync is ours, not SQLite's: with `synchronous=FULL` SQLite
 * would fsync inside COMMIT and block the event loop for the whole flush (measured: the largest
 * single cost of intake); with `synchronous=NORMAL` it leaves the log to us (it still syncs the log
 * header and the database file at checkpoints), and the flusher below fsyncs it on libuv's thread
 * pool while the loop goes on taking requests. One fsync covers every group committed before it
 * started, so concurrent groups share flushes.
 *
 * Reads may see a group between its COMMIT and its flush. The mirror worker never acts on such
 * data before its own write is flushed, which is later in the log.
 * @param options - file path and group commit settings
 * @returns the dialect
 */
export function openSqlite(options: OpenSqliteOptions): Dialect {
  mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
  let writer: Database.Database;
  try {
    writer = new Database(options.path);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = NORMAL');
    writer.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    writer.pragma('foreign_keys = ON');
    writer.pragma('busy_timeout = 5000');
    writer.pragma(`cache_size = ${PAGE_CACHE_KIB}`);
  } catch (cause) {
    throw databaseFailure(`cannot open the SQLite database ${options.path}`, cause);
  }
  const reader = new Database(options.path, { readonly: true });
  reader.pragma('busy_timeout = 5000');
  reader.pragma(`cache_size = ${PAGE_CACHE_KIB}`);
  return new SqliteDialect(writer, reader, options);
}

class SqliteDialect implements Dialect {
  readonly name = 'sqlite' as const;
  private readonly committer: GroupCommitter;
  private readonly flusher: WalFlusher;
  private readonly writerStatements = new Map<string, Prepared>();
  private readonly readerStatements = new Map<string, Prepared>();

  constructor(
    private readonly writer: Database.Database,
    private readonly reader: Database.Database,
    options: OpenSqliteOptions,
  ) {
    this.flusher = new WalFlusher(`${options.path}-wal`);
    // A Tx per group: what the repository remembers about a group stays with that group.
    const session = (): GroupSession => ({
      // Transaction control runs twice per write (SAVEPOINT, RELEASE): prepared once, not parsed each time.
      exec: (sql) => void run(this.writer, this.writerStatements, sql, []),
      tx: {
        query: <R extends Row>(sql: string, params: readonly SqlValue[] = []) =>
          Promise.resolve(run(this.writer, this.writerStatements, sql, params) as R[]),
      },
      release: () => {},
      durable: () => this.flusher.flush(),
    });
    // IMMEDIATE: the group takes the write lock when it begins, not at its first write.
    this.committer = new GroupCommitter(session, options.groupCommit, ['BEGIN IMMEDIATE']);
  }

  read<R extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    try {
      return Promise.resolve(run(this.reader, this.readerStatements, sql, params) as R[]);
    } catch (error) {
      return Promise.reject(translate(error));
    }
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.committer.submit(work).catch((error: unknown) => {
      throw translate(error);
    });
  }

  migrate(migrations: readonly Migration[]): Promise<number[]> {
    const applied: number[] = [];
    const apply = this.writer.transaction(() => {
      this.writer.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      const done = new Set(
        this.writer
          .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
          .all()
          .map((row) => row.version),
      );
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        this.writer.exec(migration.sqlite);
        this.writer
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(migration.version, migration.name, new Date().toISOString());
        applied.push(migration.version);
      }
    });
    try {
      // IMMEDIATE: take the write lock first, so two processes cannot both decide to migrate.
      apply.immediate();
    } catch (error) {
      return Promise.reject(translate(error));
    }
    return Promise.resolve(applied);
  }

  stats() {
    return this.committer.stats();
  }

  async close(): Promise<void> {
    await this.committer.close();
    await this.flusher.close();
    this.reader.close();
    this.writer.close();
  }
}

/**
 * fsyncs the write-ahead log on the thread pool. A flush asked for while one runs may have
 * committed after that one started, so it waits for the next, which then serves every caller that
 * arrived meanwhile.
 */
class WalFlusher {
  private handle: Promise<FileHandle> | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly walPath: string) {}

  flush(): Promise<void> {
    if (!this.running) {
      this.running = this.sync().finally(() => (this.running = undefined));
      return this.running;
    }
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.flush();
      });
    return this.next;
  }

  async close(): Promise<void> {
    await this.next?.catch(() => undefined);
    await this.running?.catch(() => undefined);
    const handle = await this.handle?.catch(() => undefined);
    this.handle = undefined;
    await handle?.close();
  }

  private async sync(): Promise<void> {
    try {
      // The log exists once the first commit wrote to it; it is never replaced while the
      // connections are open (a checkpoint rewinds it in place).
      this.handle ??= open(this.walPath, 'r+');
      await (await this.handle).sync();
    } catch (cause) {
      this.handle = undefined;
      throw databaseFailure(`cannot flush the SQLite write-ahead log ${this.walPath}`, cause);
    }
  }
}

// The shared SQL writes parameters as $1, $2 (PostgreSQL). SQLite gets them as plain `?` bound by
// position, which better-sqlite3 binds faster than named ones (no object to build and look up);
// `order` maps each `?` to its parameter, as $n may appear twice or out of order.
function run(
  db: Database.Database,
  cache: Map<string, Prepared>,
  sql: string,
  params: readonly SqlValue[],
): Row[] {
  let prepared = cache.get(sql);
  if (!prepared) {
    const order: number[] = [];
    const positional = sql.replace(/\$(\d+)/g, (_, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    const asGiven = order.every((n, i) => n === i);
    prepared = { statement: db.prepare<SqlValue[], Row>(positional), order: asGiven ? undefined : order };
    cache.set(sql, prepared);
  }
  const { statement, order } = prepared;
  const args = order ? order.map((n) => params[n]!) : params;
  if (statement.reader) return statement.all(...args);
  statement.run(...args);
  return [];
}

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB|PROTOCOL)/;

function translate(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE.test(code)) {
    return databaseFailure(`SQLite failed (${code})`, error);
  }
  return error;
}

function databaseFailure(message: string, cause: unknown): RemoteError {
  return new RemoteError(ErrorCodes.DATABASE_FAILED, message, {
    host: 'sqlite',
    hint: 'Check that the database file and its folder are writable and the disk is not full.',
    cause,
  });
}
