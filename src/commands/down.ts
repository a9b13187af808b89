import { BaseCommand } from '../cli/base-command.js';
import { dirFlag } from '../cli/flags.js';
import { formatDown } from '../cli/output.js';
import { stopStack, type StopStackResult } from '../core/local/down.js';

export default class Down extends BaseCommand {
  static override summary = 'Stop the stack that `up` runs on this machine.';

  static override description =
    "Stops the adapter first (it finishes requests in flight), then the local chain (which saves its state, so the next `up` finds the contracts again): SIGTERM, and SIGKILL when one does not end in time. Only processes that `up` recorded for this workspace, and that are still the same processes, are signalled. Nothing running is not an error. The chain's state, the adapter database and the logs under DIR/.local stay.";

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ./workspace',
    '<%= config.bin %> <%= command.id %> --dir ./workspace --json',
  ];

  static override flags = {
    dir: dirFlag(),
  };

  async run(): Promise<StopStackResult> {
    const { flags } = await this.parse(Down);
    const result = await stopStack(flags.dir);
    this.log(formatDown(result));
    return result;
  }
}
