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
