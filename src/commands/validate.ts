import { BaseCommand } from '../cli/base-command.js';
import { dirFlag } from '../cli/flags.js';
import { formatValidate } from '../cli/output.js';
import { validateWorkspace, type ValidateWorkspaceResult } from '../core/workspace/validate.js';

export default class Validate extends BaseCommand {
  static override summary = 'Check a workspace: spec, keys, genesis, allowlists and generated files.';

  static override description =
    'Checks network.yaml against its schema and rules; every node key against its public key, address, enode and the spec; the genesis extraData validators against the validator nodes; the permissions and static-nodes lists; key file modes; and that every generated file is what `render` would write now. Every problem is listed; exit code 3 when there is any.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ./pilot',
    '<%= config.bin %> <%= command.id %> --dir ./pilot --json',
  ];

  static override flags = {
    dir: dirFlag(),
  };

  async run(): Promise<ValidateWorkspaceResult> {
    const { flags } = await this.parse(Validate);
    const result = await validateWorkspace({ dir: flags.dir });
    this.warnLater(...result.warnings);
    this.log(formatValidate(result));
    return result;
  }
}
