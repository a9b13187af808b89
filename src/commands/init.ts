import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dirFlag, envName, forceFlag, keystorePasswordFileFlag } from '../cli/flags.js';
import { formatInit } from '../cli/output.js';
import { keystorePassword } from '../cli/secrets.js';
import { runTasks } from '../cli/tasks.js';
import { initWorkspaceSteps, type InitWorkspaceResult } from '../core/workspace/init.js';

export default class Init extends BaseCommand {
  static override summary =
    "Create a workspace from a network spec: keys, genesis and every node's configuration.";

  static override description = `Generates a node key per node (0600, in the format Besu reads), encrypted keystores for the deployer, the minter and organisations without an admin address, the IBFT 2.0 genesis, and per node a self-contained folder (config.toml, genesis, static nodes, permissions, docker compose file or systemd unit). The workspace is written atomically; an existing one is never overwritten without --force.

The keystore password comes from ${envName('keystore_password')} or --keystore-password-file. A network whose hosts are all loopback (the "local" example) may omit it: a development password is generated and stored 0600 in the workspace.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --example local --dir ./peruri-local',
    `${envName('keystore_password')}=... <%= config.bin %> <%= command.id %> --example pilot --dir ./pilot`,
    '<%= config.bin %> <%= command.id %> --spec network.yaml --dir ./prod --keystore-password-file /run/secrets/keystore',
  ];

  static override flags = {
    dir: dirFlag('Folder to create the workspace in (must not exist or be empty).'),
    example: Flags.string({
      description: 'Start from a built-in example: pilot (three organisations) or local (all on 127.0.0.1).',
      env: envName('example'),
      helpValue: 'NAME',
    }),
    spec: Flags.string({
      description: 'Start from this network.yaml.',
      env: envName('spec'),
      helpValue: 'FILE',
    }),
    'keystore-password-file': keystorePasswordFileFlag(),
    force: forceFlag(
      "Replace an existing workspace; it is moved, keys included, into the new one's .archive/ first.",
    ),
  };

  async run(): Promise<InitWorkspaceResult> {
    const { flags } = await this.parse(Init);
    if (Boolean(flags.example) === Boolean(flags.spec)) {
      this.error('Give exactly one of --example NAME or --spec FILE.', { exit: 2 });
    }
    const { steps, context } = initWorkspaceSteps({
      dir: flags.dir,
      spec: flags.spec ? { file: flags.spec } : { example: flags.example! },
      password: await keystorePassword(flags['keystore-password-file']),
      force: flags.force,
    });
    await runTasks(steps, context, { json: this.jsonEnabled(), signal: this.signal });
    const result = context.result!;
    this.warnLater(...result.warnings);
    this.log(formatInit(result));
    return result;
  }
}
