import { BaseCommand } from '../cli/base-command.js';
import { dirFlag, dryRunFlag, forceFlag, keystorePasswordFileFlag } from '../cli/flags.js';
import { formatRerender } from '../cli/output.js';
import { keystorePassword } from '../cli/secrets.js';
import { rerenderWorkspace, type RerenderWorkspaceResult } from '../core/workspace/rerender.js';

export default class Render extends BaseCommand {
  static override summary = 'Re-derive every generated file from network.yaml, keeping the keys.';

  static override description =
    'Run after editing network.yaml. Existing keys are kept; nodes and organisations new in the spec get new keys. Prints what changed; --dry-run prints the same and writes nothing. Keys of nodes removed from the spec are only moved to .archive/ with --force.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ./pilot --dry-run',
    '<%= config.bin %> <%= command.id %> --dir ./pilot',
  ];

  static override flags = {
    dir: dirFlag(),
    'dry-run': dryRunFlag(),
    force: forceFlag('Move the keys of nodes removed from network.yaml to .archive/.'),
    'keystore-password-file': keystorePasswordFileFlag(),
  };

  async run(): Promise<RerenderWorkspaceResult> {
    const { flags } = await this.parse(Render);
    const result = await rerenderWorkspace({
      dir: flags.dir,
      dryRun: flags['dry-run'],
      force: flags.force,
      password: await keystorePassword(flags['keystore-password-file']),
    });
    this.warnLater(...result.warnings);
    this.log(formatRerender(result));
    return result;
  }
}
