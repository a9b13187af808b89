import { Flags } from '@oclif/core';

import { envName } from './env-name.js';

export { envName };

/** `--dir`: the workspace folder, the same on every command. */
export const dirFlag = (description = 'Workspace folder.') =>
  Flags.directory({ description, env: envName('dir'), default: '.', helpValue: 'DIR' });

/** `--dry-run`: show what would change and change nothing. */
export const dryRunFlag = () =>
  Flags.boolean({
    description: 'Print the plan and change nothing.',
    env: envName('dry_run'),
    default: false,
  });

/** `--force`: the one way to let a command replace keys or an existing workspace. */
export const forceFlag = (description: string) =>
  Flags.boolean({ description, env: envName('force'), default: false });

/**
 * `--keystore-password-file`: the keystore password comes from this file or from the
 * environment, never from a flag value that would land in shell history.
 */
export const keystorePasswordFileFlag = () =>
  Flags.file({
    description: `File holding the account keystore password (default: the ${envName('keystore_password')} environment variable).`,
    env: envName('keystore_password_file'),
    exists: true,
    helpValue: 'FILE',
  });
