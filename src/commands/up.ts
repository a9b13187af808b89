import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dirFlag, envName, keystorePasswordFileFlag } from '../cli/flags.js';
import { formatUp } from '../cli/output.js';
import { keystorePassword } from '../cli/secrets.js';
import { runTasks } from '../cli/tasks.js';
import { upLocalStack, type UpLocalStackResult } from '../core/local/up.js';

export default class Up extends BaseCommand {
  static override summary =
    'Run the whole stack on this machine: a local chain, the contracts and the adapter.';

  static override description = `Starts a local chain (the bundled EVM node on the transaction node's RPC address, with the workspace's chain id, block period and free gas; or with --engine besu and besu on the PATH, every node of the workspace as a local Besu process), deploys or verifies the contracts, and starts the adapter daemon with its SQLite database, each as a background process that keeps running after this command returns. Prints the adapter URL, the RPC URL, the contract addresses, a ready token for trying the adapter (valid 12 hours, for this local stack only) and a curl line.

Run again, it keeps what runs and answers and starts what is missing. State, logs, the chain's saved state and the adapter's JWT secret (0600) are under DIR/.local; \`down\` stops everything. Only for networks whose machines are all this one (loopback addresses), such as the "local" example.`;

  static override examples = [
    '<%= config.bin %> init --example local --dir ./workspace && <%= config.bin %> <%= command.id %> --dir ./workspace',
    '<%= config.bin %> <%= command.id %> --dir ./workspace --json',
    '<%= config.bin %> <%= command.id %> --dir ./workspace --engine besu',
    '<%= config.bin %> <%= command.id %> --dir ./workspace --reset-chain',
  ];

  static override flags = {
    dir: dirFlag(),
    engine: Flags.string({
      description: 'What runs the chain: anvil (the bundled EVM node) or besu (needs besu on the PATH).',
      env: envName('engine'),
      options: ['anvil', 'besu'],
      default: 'anvil',
    }),
    'reset-chain': Flags.boolean({
      description:
        "Stop the stack, move the local chain's state, deployments.json and the adapter database to .archive/, and start afresh.",
      env: envName('reset_chain'),
      default: false,
    }),
    'keystore-password-file': keystorePasswordFileFlag(),
  };

  async run(): Promise<UpLocalStackResult> {
    const { flags } = await this.parse(Up);
    const result = await upLocalStack(
      {
        dir: flags.dir,
        engine: flags.engine as 'anvil' | 'besu',
        password: await keystorePassword(flags['keystore-password-file']),
        // Loaded only when needed: the daemon's modules would slow every command's start.
        loadAdapterConfig: async (file) => (await import('../daemon/config/load.js')).loadAdapterConfig(file),
        resetChain: flags['reset-chain'],
        signal: this.signal,
      },
      (steps, context) => runTasks(steps, context, { json: this.jsonEnabled(), signal: this.signal }),
    );
    this.warnLater(...result.warnings);
    this.log(formatUp(result));
    return result;
  }
}
