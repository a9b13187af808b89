import { ErrorCodes, InputError } from '../../core/errors.js';
import type { Dialect } from './dialect.js';
import type { GroupCommitOptions } from './group-commit.js';
import { MIGRATIONS } from './migrations/index.js';
import { SqlStore } from './repository.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** `sqlite:///absolute/path.db` or `postgres://user@host:port/database`. */
  url: string;
  /** PostgreSQL password, if any. */
  password?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Group commit of writes (default: 2 ms, 500 writes). */
  groupCommit?: GroupCommitOptions;
  /** Told about errors of idle PostgreSQL connections. */
  onIdleError?: (error: Error) => void;
}

const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxDelayMs: 2, maxBatch: 500 };

export interface OpenStoreResult {
  store: Store;
  /** Migrations applied by this call (empty when the schema was current). */
  applied: number[];
}

/**
 * Opens the database named by a URL and brings its schema up to date. The database drivers are
 * loaded only here, so importing the daemon's other modules stays cheap.
 * @param options - URL and dialect settings
 * @returns the store and the migrations it applied
 * @throws InputError for a URL of another kind; RemoteError (PC_DATABASE_FAILED) when the database
 *   cannot be opened or migrated
 * @example
 * const { store } = await openStore({ url: 'sqlite:///srv/peruri/service/adapter.db' });
 */
export async function openStore(options: OpenStoreOptions): Promise<OpenStoreResult> {
  let dialect: Dialect;
  if (options.url.startsWith('sqlite://')) {
    const path = options.url.slice('sqlite://'.length);
    if (!path.startsWith('/')) throw badUrl(options.url);
    const { openSqlite } = await import('./dialects/sqlite.js');
    dialect = openSqlite({
      path: decodeURIComponent(path),
      groupCommit: options.groupCommit ?? DEFAULT_GROUP_COMMIT,
    });
  } else if (/^postgres(ql)?:\/\//.test(options.url)) {
    const { openPostgres } = await import('./dialects/postgres.js');
    dialect = openPostgres({
      url: options.url,
      password: options.password,
      poolSize: options.poolSize ?? 10,
      groupCommit: options.groupCommit ?? DEFAULT_GROUP_COMMIT,
      onIdleError: options.onIdleError,
    });
  } else {
    throw badUrl(options.url);
  }
  try {
    const applied = await dialect.migrate(MIGRATIONS);
    return { store: new SqlStore(dialect), applied };
  } catch (error) {
    await dialect.close().catch(() => undefined);
    throw error;
  }
}

function badUrl(url: string): InputError {
  return new InputError(
    ErrorCodes.CONFIG_INVALID,
    `Not a database URL the adapter knows: ${url.split(':')[0]}:…`,
    {
      hint: 'Use sqlite:///absolute/path.db or postgres://user@host:port/database.',
    },
  );
}
