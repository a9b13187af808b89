import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { ErrorCodes, RefusedError } from '../errors.js';

/**
 * Besu's command line for one node of the workspace: everything else is in the node's rendered
 * config.toml (`--config-file`, https://besu.hyperledger.org/public-networks/reference/cli/options#config-file),
 * which holds absolute paths to its genesis, key, data folder, static nodes and permissions file.
 * @param configFile - the node's config.toml, absolute
 * @returns the argument list
 */
export function besuArgs(configFile: string): string[] {
  return [`--config-file=${configFile}`];
}

/**
 * Finds `besu` on the PATH, as a shell would.
 * @param pathVariable - the PATH to search (default: this process's)
 * @returns the absolute path of the first executable `besu`
 * @throws RefusedError (PC_ENGINE_MISSING) when there is none
 */
export async function findBesu(pathVariable = process.env.PATH ?? ''): Promise<string> {
  for (const folder of pathVariable.split(delimiter)) {
    if (!folder || !isAbsolute(folder)) continue;
    const candidate = join(folder, 'besu');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new RefusedError(
    ErrorCodes.ENGINE_MISSING,
    '--engine besu needs `besu` on the PATH, and there is none',
    {
      hint: 'Install Hyperledger Besu (https://besu.hyperledger.org/public-networks/get-started/install) and put its bin folder on the PATH, or leave out --engine to use the bundled local EVM node.',
    },
  );
}
