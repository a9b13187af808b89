import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { dirFlag, dryRunFlag, envName, keystorePasswordFileFlag } from '../../cli/flags.js';
import { formatContractsDeploy } from '../../cli/output.js';
import { keystorePassword } from '../../cli/secrets.js';
import { runTasks } from '../../cli/tasks.js';
import {
  deployWorkspaceContractsSteps,
  type DeployWorkspaceContractsResult,
} from '../../core/contracts/deploy-workspace.js';

export default class ContractsDeploy extends BaseCommand {
  static override summary = 'Deploy PointsToken, Badges and ActivityLog, or verify an earlier deployment.';

  static override description = `Deploys the three contracts with the workspace's deployer account (gas price 0), granting the admin role to the organisations' admins and the minter role to the adapter's minter account, and records each in DIR/deployments.json as soon as it is mined. A re-run verifies the recorded contracts and sends nothing; an interrupted run resumes where it stopped.

The node must serve the chain id of network.yaml (and of deployments.json) unless --allow-chain-change is given. The keystore password comes from ${envName('keystore_password')} or --keystore-password-file; a one-machine network uses its stored development password.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ./peruri-local --rpc http://127.0.0.1:8548',
    '<%= config.bin %> <%= command.id %> --dir ./pilot --rpc http://10.0.1.11:8545 --keystore-password-file /run/secrets/keystore --dry-run',
    `${envName('rpc')}=http://127.0.0.1:8545 <%= config.bin %> <%= command.id %> --dir ./test-ws --allow-chain-change --json`,
  ];

  static override flags = {
    dir: dirFlag(),
    rpc: Flags.string({
      description: 'JSON-RPC endpoint of a node of the network (http or https).',
      env: envName('rpc'),
      required: true,
      helpValue: 'URL',
    }),
    'keystore-password-file': keystorePasswordFileFlag(),
    'allow-chain-change': Flags.boolean({
      description: 'Deploy even if the node serves another chain id than network.yaml or deployments.json.',
      env: envName('allow_chain_change'),
      default: false,
    }),
    'dry-run': dryRunFlag(),
  };

  async run(): Promise<DeployWorkspaceContractsResult> {
    const { flags } = await this.parse(ContractsDeploy);
    const { steps, context } = deployWorkspaceContractsSteps({
      dir: flags.dir,
      rpcUrl: flags.rpc,
      password: await keystorePassword(flags['keystore-password-file']),
      allowChainChange: flags['allow-chain-change'],
      dryRun: flags['dry-run'],
      signal: this.signal,
    });
    await runTasks(steps, context, { json: this.jsonEnabled(), signal: this.signal });
    const result = context.result!;
    this.warnLater(...result.warnings);
    this.log(formatContractsDeploy(result));
    return result;
  }
}
