import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface RunCliOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/**
 * Runs the built CLI as a user would, without a TTY; never throws on a non-zero exit.
 * COLUMNS is fixed so that wrapped help text is the same on every machine.
 */
export function runCli(args: string[], options: RunCliOptions = {}) {
  return execa('node', [CLI, ...args], {
    reject: false,
    cwd: options.cwd,
    extendEnv: true,
    env: { COLUMNS: '100', NO_COLOR: '1', CI: '', PERURI_CHAIN_KEYSTORE_PASSWORD: '', ...options.env },
  });
}
