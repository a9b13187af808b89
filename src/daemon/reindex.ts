import { loadAdapterConfig } from './config/load.js';
import { readDatabasePassword } from './config/secrets.js';
import { openStore } from './store/open.js';
import { HOLDINGS_CURSOR } from './worker/indexer.js';

export interface ReindexHoldingsOptions {
  configFile: string;
  env?: NodeJS.ProcessEnv;
  /** Who asks, for the audit trail (default: the operator's user name). */
  actor?: string;
}

export interface ReindexHoldingsResult {
  /** Cached balances and badge holdings removed. */
  balancesCleared: number;
  badgeHoldingsCleared: number;
  /** The block the index had reached before (-1: never indexed). */
  previousCursor: number;
}

/**
 * Empties the token balance cache and badge index and their cursor, with an audit entry, so the
 * mirror worker rebuilds them from the chain's events from the first contract block: at once if
 * the adapter runs (its next range finds the cursor gone and starts over), otherwise at its next
 * start. The activities, batches and outbox are untouched.
 * @param options - configuration file and environment
 * @returns what was cleared
 * @throws InputError (configuration, database password), RemoteError (database)
 */
export async function reindexHoldings(options: ReindexHoldingsOptions): Promise<ReindexHoldingsResult> {
  const { config } = await loadAdapterConfig(options.configFile);
  const env = options.env ?? process.env;
  const { store } = await openStore({
    url: config.database.url,
    password: await readDatabasePassword(config, env),
    poolSize: 1,
  });
  try {
    const before = await store.rowCounts();
    const previousCursor = await store.mirror.cursor(HOLDINGS_CURSOR);
    await store.mirror.resetIndex({
      actor: options.actor ?? env.USER ?? 'operator',
      action: 'index.reset',
      subject: HOLDINGS_CURSOR,
      details: { previousCursor, balances: before.token_balances, badgeHoldings: before.badge_holdings },
    });
    return {
      balancesCleared: before.token_balances,
      badgeHoldingsCleared: before.badge_holdings,
      previousCursor,
    };
  } finally {
    await store.close();
  }
}
