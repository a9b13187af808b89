import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import {
  acceptNewHostKeyFlag,
  adapterCommandFlag,
  adapterImageFlag,
  dirFlag,
  dockerSocketFlag,
  dryRunFlag,
  envName,
  healthTimeoutFlag,
  keystorePasswordFileFlag,
  pollIntervalMs,
  sshKeyFileFlag,
  systemdUnitDirFlag,
} from '../cli/flags.js';
import { formatDeploy } from '../cli/output.js';
import { adapterJwtSecret, keystorePassword, sshLogin } from '../cli/secrets.js';
import { runTasks } from '../cli/tasks.js';
import { prepareDeploy, type DeployResult } from '../core/deploy/deploy.js';

export default class Deploy extends BaseCommand {
  static override summary =
    'Push the workspace to the machines, start Besu, deploy the contracts and start the adapter.';

  static override description = `Over SSH (host keys checked against DIR/known_hosts), puts each node's folder on its machine atomically (the replaced one is kept as <folder>.previous), starts Besu with the node's runtime (a Docker container of the pinned image, never pulled, or the systemd unit), waits until blocks advance, peers are connected and the on-chain validator set equals the spec's, deploys or verifies the contracts through the transaction node, then puts the service folder on the service machine and starts the adapter.

Every step checks the machine before acting and records what it did in DIR/deploy-state.json: a re-run after a failure resumes, a re-run after success changes nothing. --dry-run prints the plan from the workspace and the record without connecting. The adapter's secrets (keystore password, JWT secret from ${envName('adapter_jwt_secret')} or --adapter-jwt-secret-file) go to an environment file of mode 0600 on the service machine and are never printed.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ./pilot --dry-run',
    `${envName('keystore_password')}=... ${envName('adapter_jwt_secret')}=... <%= config.bin %> <%= command.id %> --dir ./pilot --ssh-key-file ~/.ssh/deploy_ed25519 --accept-new-host-key`,
    '<%= config.bin %> <%= command.id %> --dir ./pilot --only nodes --health-timeout 300 --json',
  ];

  static override flags = {
    dir: dirFlag(),
    only: Flags.string({
      description: 'Deploy only this part: the nodes (with the health gate), the contracts, or the adapter.',
      env: envName('only'),
      options: ['nodes', 'contracts', 'adapter'],
    }),
    'dry-run': dryRunFlag(),
    'ssh-key-file': sshKeyFileFlag(),
    'accept-new-host-key': acceptNewHostKeyFlag(),
    'keystore-password-file': keystorePasswordFileFlag(),
    'adapter-jwt-secret-file': Flags.file({
      description: `File holding the adapter's JWT secret, at least 32 bytes (default: the ${envName('adapter_jwt_secret')} environment variable).`,
      env: envName('adapter_jwt_secret_file'),
      exists: true,
      helpValue: 'FILE',
    }),
    'health-timeout': healthTimeoutFlag('Seconds to wait for the nodes (and the adapter) to become healthy.'),
    'systemd-unit-dir': systemdUnitDirFlag(),
    'docker-socket': dockerSocketFlag(),
    'adapter-command': adapterCommandFlag(
      'The peruri-chain launcher on the service machine (systemd runtime).',
    ),
    'adapter-image': adapterImageFlag(
      "The adapter's image on the service machine (docker runtime; never pulled). Default: peruri-chain/adapter:<version>.",
    ),
  };

  async run(): Promise<DeployResult> {
    const { flags } = await this.parse(Deploy);
    const dryRun = flags['dry-run'];
    const timeoutMs = flags['health-timeout'] * 1000;
    const { steps, context } = await prepareDeploy({
      dir: flags.dir,
      scope: (flags.only as 'nodes' | 'contracts' | 'adapter' | undefined) ?? 'all',
      dryRun,
      auth: dryRun ? undefined : await sshLogin(flags['ssh-key-file']),
      acceptNewHostKey: flags['accept-new-host-key'],
      password: await keystorePassword(flags['keystore-password-file']),
      jwtSecret: await adapterJwtSecret(flags['adapter-jwt-secret-file']),
      healthTimeoutMs: timeoutMs,
      pollIntervalMs: pollIntervalMs(timeoutMs),
      systemdUnitDir: flags['systemd-unit-dir'],
      dockerSocket: flags['docker-socket'],
      adapterCommand: flags['adapter-command'],
      ...(flags['adapter-image'] ? { adapterImage: flags['adapter-image'] } : {}),
      version: this.config.version,
      signal: this.signal,
    });
    await runTasks(steps, context, { json: this.jsonEnabled(), signal: this.signal });
    const result = context.result!;
    this.warnLater(...result.warnings);
    this.log(formatDeploy(result));
    return result;
  }
}
