import type { SshAuth } from '../io/ssh.js';
import { readSuppliedSecret, type SuppliedSecret } from '../core/workspace/password.js';
import { envName } from './flags.js';

/**
 * The keystore password from `--keystore-password-file` or PERURI_CHAIN_KEYSTORE_PASSWORD.
 * @param file - the flag's value
 */
export function keystorePassword(file: string | undefined): Promise<SuppliedSecret | undefined> {
  const name = envName('keystore_password');
  return readSuppliedSecret({ file, envName: name, envValue: process.env[name] });
}

/**
 * The snapshot passphrase from `--passphrase-file` or PERURI_CHAIN_SNAPSHOT_PASSPHRASE.
 * @param file - the flag's value
 */
export function snapshotPassphrase(file: string | undefined): Promise<SuppliedSecret | undefined> {
  const name = envName('snapshot_passphrase');
  return readSuppliedSecret({ file, envName: name, envValue: process.env[name] });
}

/**
 * The adapter's JWT secret from `--adapter-jwt-secret-file` or PERURI_CHAIN_ADAPTER_JWT_SECRET.
 * @param file - the flag's value
 */
export function adapterJwtSecret(file: string | undefined): Promise<SuppliedSecret | undefined> {
  const name = envName('adapter_jwt_secret');
  return readSuppliedSecret({ file, envName: name, envValue: process.env[name] });
}

/**
 * How to log in over SSH: `--ssh-key-file` (passphrase from PERURI_CHAIN_SSH_KEY_PASSPHRASE) or the agent.
 * @param file - the flag's value
 */
export async function sshLogin(file: string | undefined): Promise<SshAuth> {
  // node-ssh is loaded only by the commands that log in, not at every start.
  const { chooseSshAuth } = await import('../io/ssh.js');
  const passphrase = process.env[envName('ssh_key_passphrase')];
  return chooseSshAuth(file, process.env, passphrase === '' ? undefined : passphrase);
}
