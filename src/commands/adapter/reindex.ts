import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { envName } from '../../cli/flags.js';
import type { ReindexHoldingsResult } from '../../daemon/reindex.js';

export default class AdapterReindex extends BaseCommand {
  static override summary = "Rebuild the adapter's token balances and badge index from chain events.";

  static override description = `Empties the balance cache and the badge index in the adapter's database and resets their cursor, with an entry in the audit trail. The mirror worker then reads the contracts' Transfer events again from the first contract block: at once when the adapter runs, otherwise at its next start. Activities, batches and transactions are untouched.

Only the database is opened; for PostgreSQL, its password comes from the variable or file the configuration names.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --config /opt/peruri-chain/service/adapter.yaml',
  ];

  static override flags = {
    config: Flags.file({
      description: 'The adapter configuration (service/adapter.yaml of the workspace).',
      env: envName('config'),
      required: true,
      exists: true,
      helpValue: 'FILE',
    }),
  };

  async run(): Promise<ReindexHoldingsResult> {
    const { flags } = await this.parse(AdapterReindex);
    const { reindexHoldings } = await import('../../daemon/reindex.js');
    const result = await reindexHoldings({ configFile: flags.config });
    if (!this.jsonEnabled()) {
      this.log(
        `Cleared ${result.balancesCleared} balances and ${result.badgeHoldingsCleared} badge holdings (index was at block ${result.previousCursor}); the adapter rebuilds them from block 0.`,
      );
    }
    return result;
  }
}
