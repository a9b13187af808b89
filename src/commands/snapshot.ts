import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dirFlag, envName, forceFlag } from '../cli/flags.js';
import { formatSnapshot } from '../cli/output.js';
import { snapshotPassphrase } from '../cli/secrets.js';
import { runTasks } from '../cli/tasks.js';
import { snapshotWorkspaceSteps, type SnapshotWorkspaceResult } from '../core/snapshot/snapshot.js';

export default class Snapshot extends BaseCommand {
  static override summary = 'Write a disaster-recovery snapshot of a workspace to one archive file.';

  static override description = `The archive (a tar file, mode 0600) holds network.yaml, genesis, every node's configuration and key.pub, contract records, the service configuration, a manifest with a SHA-256 of every file, and, encrypted with the passphrase (age, scrypt), every key, keystore and secret and the adapter's SQLite database, copied consistently while the adapter runs. The manifest and the public files can be read without the passphrase: tar -xOf FILE manifest.json.

The passphrase (at least 12 characters) comes from ${envName('snapshot_passphrase')} or --passphrase-file, never from a flag value. --include-chain-data adds each node's data folder found in the workspace (the one-machine case; stop the nodes first for a consistent copy); the data of nodes on other machines is not reachable from here yet.`;

  static override examples = [
    `${envName('snapshot_passphrase')}=... <%= config.bin %> <%= command.id %> --dir ./pilot --out pilot-2026-01-31.snapshot`,
    '<%= config.bin %> <%= command.id %> --dir ./peruri-local --out local.snapshot --passphrase-file /run/secrets/snapshot --include-chain-data',
  ];

  static override flags = {
    dir: dirFlag(),
    out: Flags.string({
      description: 'Archive file to write (refused if it exists, unless --force).',
      env: envName('out'),
      required: true,
      helpValue: 'FILE',
    }),
    'include-chain-data': Flags.boolean({
      description:
        "Add each node's data folder that is inside the workspace (one machine only; remote nodes' data is not reachable yet).",
      env: envName('include_chain_data'),
      default: false,
    }),
    'passphrase-file': Flags.file({
      description: `File holding the snapshot passphrase (default: the ${envName('snapshot_passphrase')} environment variable).`,
      env: envName('snapshot_passphrase_file'),
      exists: true,
      helpValue: 'FILE',
    }),
    force: forceFlag('Replace the archive file if it exists.'),
  };

  async run(): Promise<SnapshotWorkspaceResult> {
    const { flags } = await this.parse(Snapshot);
    const { steps, context } = snapshotWorkspaceSteps({
      dir: flags.dir,
      out: flags.out,
      passphrase: await snapshotPassphrase(flags['passphrase-file']),
      includeChainData: flags['include-chain-data'],
      force: flags.force,
    });
    await runTasks(steps, context, { json: this.jsonEnabled(), signal: this.signal });
    const result = context.result!;
    this.warnLater(...result.warnings);
    this.log(formatSnapshot(result));
    return result;
  }
}
