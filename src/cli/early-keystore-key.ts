// bin/run.js imports this before oclif, so it imports nothing heavy (no oclif, not flags.ts).
import { isUsablePassword, prestartKeystoreKey, type KeystoreKey } from '../core/keys/keystore.js';
import { readSuppliedSecret } from '../core/workspace/password.js';
import { envName } from './env-name.js';

const PASSWORD_FILE_FLAG = '--keystore-password-file';

/**
 * For `init`, starts the keystores' scrypt key (~0.4 s) before oclif loads (~0.1 s). init's
 * password is known from argv and the environment alone, the way keystorePassword (secrets.ts) reads
 * it, and an operator's password always means the standard strength. init takes the key only if
 * it asks for exactly this password and strength (see prestartKeystoreKey); when in doubt,
 * nothing starts and init derives its key as usual.
 * @param argv - the arguments after `node bin/run.js`
 * @returns the key started, if any
 */
export async function startInitKeystoreKeyEarly(argv: readonly string[]): Promise<KeystoreKey | undefined> {
  const [command, ...args] = argv;
  if (command !== 'init' || args.includes('--help') || args.includes('-h')) return undefined;
  const supplied = await readSuppliedSecret({
    file: flagValue(args, PASSWORD_FILE_FLAG) ?? process.env[envName('keystore_password_file')],
    envName: envName('keystore_password'),
    envValue: process.env[envName('keystore_password')],
  }).catch(() => undefined);
  if (!supplied || !isUsablePassword(supplied.value)) return undefined;
  return prestartKeystoreKey(supplied.value, 'standard');
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  for (const [index, arg] of args.entries()) {
    if (arg === '--') return undefined;
    if (arg === flag) return args[index + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}
