import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCodes, InputError } from '../errors.js';
import { assertUsablePassword, type KeystoreStrength } from '../keys/keystore.js';
import { isLoopback } from '../spec/rules.js';
import type { NetworkSpec } from '../spec/types.js';
import { DEV_PASSWORD_FILE } from './layout.js';
import { readOptional } from './read-optional.js';

/** A secret as handed over by the edge: its value and where it came from (for messages). */
export interface SuppliedSecret {
  value: string;
  source: string;
}

export interface KeystorePassword {
  value: string;
  strength: KeystoreStrength;
  /** Generated now for a one-machine network; to be stored in the workspace. */
  generated: boolean;
}

/**
 * Decides the password that encrypts new account keystores. An operator's password always wins.
 * Without one, a one-machine (all-loopback) network uses its stored development password, or a
 * new one; any other network refuses.
 * @param spec - the network spec
 * @param supplied - the password from the environment or a file, if any
 * @param workspaceDir - an existing workspace whose development password may be reused
 */
export async function chooseKeystorePassword(
  spec: NetworkSpec,
  supplied: SuppliedSecret | undefined,
  workspaceDir?: string,
): Promise<KeystorePassword> {
  if (supplied) {
    assertUsablePassword(supplied.value, supplied.source);
    return { value: supplied.value, strength: 'standard', generated: false };
  }
  const oneMachine = [...spec.nodes.map((node) => node.host), spec.service.host].every(isLoopback);
  if (!oneMachine) {
    throw new InputError(
      ErrorCodes.SECRET_MISSING,
      'No keystore password: the account keys of this network must be encrypted',
      {
        hint: 'Set PERURI_CHAIN_KEYSTORE_PASSWORD or pass --keystore-password-file FILE (never the password itself as a flag).',
      },
    );
  }
  const stored = workspaceDir ? await readOptional(join(workspaceDir, DEV_PASSWORD_FILE)) : undefined;
  if (stored) return { value: stored.trim(), strength: 'dev', generated: false };
  return { value: randomBytes(24).toString('base64url'), strength: 'dev', generated: true };
}

/**
 * Picks up a secret from a file or an environment variable (the file wins). A single trailing
 * newline of the file is dropped; the value itself is never put in a message.
 * @param options - the file path (from a `--*-file` flag), and the variable's name and value
 * @returns the secret and where it came from, or undefined when neither is set
 */
export async function readSuppliedSecret(options: {
  file: string | undefined;
  envName: string;
  envValue: string | undefined;
}): Promise<SuppliedSecret | undefined> {
  if (options.file) {
    const text = await readOptional(options.file);
    if (text === undefined) {
      throw new InputError(ErrorCodes.SECRET_MISSING, `The secret file ${options.file} does not exist`);
    }
    return { value: text.replace(/\r?\n$/, ''), source: options.file };
  }
  if (options.envValue) return { value: options.envValue, source: `$${options.envName}` };
  return undefined;
}
