import type { Migration } from './migrations/index.js';
import type { StoreStats } from './types.js';

/** A parameter value; JSON goes in as text, times as ISO-8601 text. */
export type SqlValue = string | number | null;

/** A row as the driver returns it. */
export type Row = Record<string, unknown>;

/** A statement runner inside one write transaction. */
export interface Tx {
  /** Runs one statement of the shared SQL, whose parameters are written `$1`, `$2`, ... */
  query<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
}

/**
 * What differs between SQLite and PostgreSQL: connections, transactions, locking and migration
 * mechanics. The repository on top holds the shared SQL and logic.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** A read of committed data only. */
  read<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /**
   * Runs `work` in a write transaction and resolves after its commit is durable. If `work`
   * throws, its writes are rolled back and the promise rejects. Writes are serial: both dialects
   * run them through group commit, one group at a time, holding the audit chain's lock.
   */
  write<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Applies the migrations not yet applied, each in one transaction; returns their versions. */
  migrate(migrations: readonly Migration[]): Promise<number[]>;
  stats(): StoreStats;
  close(): Promise<void>;
}
