import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import {
  acceptNewHostKeyFlag,
  dirFlag,
  dockerSocketFlag,
  dryRunFlag,
  envName,
  forceFlag,
  healthTimeoutFlag,
  pollIntervalMs,
  sshKeyFileFlag,
  systemdUnitDirFlag,
} from '../cli/flags.js';
import { formatRestore } from '../cli/output.js';
import { snapshotPassphrase, sshLogin } from '../cli/secrets.js';
import { runTasks } from '../cli/tasks.js';
import { restoreSnapshotSteps, type RestoreSnapshotResult } from '../core/snapshot/restore.js';

export default class Restore extends BaseCommand {
  static override summary =
    'Restore a workspace from a snapshot, after checking every checksum and the passphrase.';

  static override description = `Nothing is written until the whole archive checks out: its seal, every file's SHA-256, and the passphrase (from ${envName('snapshot_passphrase')} or --passphrase-file), which must open the encrypted key material. Files get their recorded modes (0600 for key material). An existing workspace is refused unless --force (it is then moved, keys included, into the restored one's .archive/), and one of another chain id also needs --allow-chain-change. Generated files are re-rendered when the folder differs from the snapshot's, and the result is validated.

--node NAME --host ADDR moves a node to a new machine in the restored network.yaml and re-renders. With --push, that node's folder is then put onto the new machine over SSH and started with its runtime, exactly as \`deploy\` does for one node (host key checked against the restored known_hosts: a new machine needs --accept-new-host-key), and restore waits until it makes blocks; the other nodes' allowlists, which name the moved node's host, are updated by \`deploy --only nodes\`. Without --push, \`deploy\` puts it there.`;

  static override examples = [
    `${envName('snapshot_passphrase')}=... <%= config.bin %> <%= command.id %> pilot-2026-01-31.snapshot --dir ./pilot --dry-run`,
    '<%= config.bin %> <%= command.id %> pilot.snapshot --dir ./pilot --passphrase-file /run/secrets/snapshot --node pds --host 10.0.2.21',
    '<%= config.bin %> <%= command.id %> pilot.snapshot --dir ./pilot --node pds --host 10.0.2.21 --push --ssh-key-file ~/.ssh/deploy_ed25519 --accept-new-host-key',
  ];

  static override args = {
    file: Args.file({ description: 'The snapshot archive.', required: true, exists: true }),
  };

  static override flags = {
    dir: dirFlag('Folder to restore the workspace into (must not exist or be empty, unless --force).'),
    'passphrase-file': Flags.file({
      description: `File holding the snapshot passphrase (default: the ${envName('snapshot_passphrase')} environment variable).`,
      env: envName('snapshot_passphrase_file'),
      exists: true,
      helpValue: 'FILE',
    }),
    force: forceFlag(
      "Replace an existing workspace; it is moved, keys included, into the restored one's .archive/.",
    ),
    'allow-chain-change': Flags.boolean({
      description: 'With --force, replace even a workspace of another chain id.',
      env: envName('allow_chain_change'),
      default: false,
    }),
    'dry-run': dryRunFlag(),
    node: Flags.string({
      description:
        'Node that moves to a new machine: its host is changed in the restored network.yaml (put it there with --push or `deploy`).',
      env: envName('node'),
      dependsOn: ['host'],
      helpValue: 'NAME',
    }),
    host: Flags.string({
      description:
        "The --node's new IP address; files are re-rendered here, and --push (or `deploy`) puts the node onto that machine.",
      env: envName('host'),
      dependsOn: ['node'],
      helpValue: 'ADDR',
    }),
    push: Flags.boolean({
      description:
        "With --node and --host: put that node's folder onto its new machine over SSH and start it, as deploy does for one node.",
      env: envName('push'),
      dependsOn: ['node', 'host'],
    }),
    'ssh-key-file': sshKeyFileFlag(),
    'accept-new-host-key': acceptNewHostKeyFlag(),
    'health-timeout': healthTimeoutFlag('With --push: seconds to wait for the node to make blocks.'),
    'systemd-unit-dir': systemdUnitDirFlag(),
    'docker-socket': dockerSocketFlag(),
  };

  async run(): Promise<RestoreSnapshotResult> {
    const { args, flags } = await this.parse(Restore);
    const { steps, context } = restoreSnapshotSteps({
      file: args.file,
      dir: flags.dir,
      passphrase: await snapshotPassphrase(flags['passphrase-file']),
      force: flags.force,
      allowChainChange: flags['allow-chain-change'],
      dryRun: flags['dry-run'],
      ...(flags.node && flags.host ? { moveNode: { name: flags.node, host: flags.host } } : {}),
      ...(flags.push && !flags['dry-run']
        ? {
            push: {
              auth: await sshLogin(flags['ssh-key-file']),
              acceptNewHostKey: flags['accept-new-host-key'],
              systemdUnitDir: flags['systemd-unit-dir'],
              dockerSocket: flags['docker-socket'],
              healthTimeoutMs: flags['health-timeout'] * 1000,
              pollIntervalMs: pollIntervalMs(flags['health-timeout'] * 1000),
              signal: this.signal,
            },
          }
        : {}),
    });
    await runTasks(steps, context, { json: this.jsonEnabled(), signal: this.signal });
    const result = context.result!;
    this.warnLater(...result.warnings);
    this.log(formatRestore(result));
    return result;
  }
}
