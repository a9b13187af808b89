import { readFile } from 'node:fs/promises';
import { ErrorCodes, InputError } from '../../core/errors.js';
import type { AdapterConfig } from './types.js';

/** The secrets and key material the daemon needs, read once at start. Never logged. */
export interface DaemonSecrets {
  /** HS256: the shared secret's bytes; ES256/RS256: the public key's PEM text. */
  jwtKey: { kind: 'secret'; secret: Uint8Array } | { kind: 'public-key'; pem: string };
  signerPassword: string;
  walletPassword: string;
  /** PostgreSQL password, when one is configured. */
  databasePassword: string | undefined;
  /** RabbitMQ password, when one is configured. */
  amqpPassword: string | undefined;
  /** Server certificate, key and client CA, when mTLS is configured. */
  tls: { ca: string; cert: string; key: string } | undefined;
}

/** Where one secret is: a file (wins) or an environment variable. */
interface SecretSource {
  env?: string | undefined;
  file?: string | undefined;
}

async function readSecret(
  what: string,
  source: SecretSource,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Promise<string | undefined> {
  if (source.file) {
    try {
      return (await readFile(source.file, 'utf8')).replace(/\r?\n$/, '');
    } catch {
      problems.push(`${what}: cannot read the file ${source.file}`);
      return undefined;
    }
  }
  if (source.env) {
    const value = env[source.env];
    if (value) return value;
    problems.push(`${what}: the environment variable ${source.env} is not set`);
  }
  return undefined;
}

/**
 * Reads only the database password (for maintenance commands that open the store and nothing else).
 * @param config - the adapter configuration
 * @param env - the environment
 * @returns the password, or undefined when none is configured
 * @throws InputError (PC_SECRET_MISSING) when one is configured but missing
 */
export async function readDatabasePassword(
  config: AdapterConfig,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const { passwordEnv, passwordFile } = config.database;
  if (!passwordEnv && !passwordFile) return undefined;
  return readOneSecret('database password', { env: passwordEnv, file: passwordFile }, env, {
    message: 'The adapter database password is missing',
    hint: 'Set the variable or create the file that database.passwordEnv / passwordFile names.',
  });
}

/**
 * Reads only the signer keystore's password (for a signer reload, which opens nothing else).
 * @param config - the adapter configuration
 * @param env - the environment
 * @returns the password
 * @throws InputError (PC_SECRET_MISSING) when it is missing
 */
export async function readSignerPassword(config: AdapterConfig, env: NodeJS.ProcessEnv): Promise<string> {
  return readOneSecret(
    'signer keystore password',
    { env: config.signer.passwordEnv, file: config.signer.passwordFile },
    env,
    {
      message: 'The signer keystore password is missing',
      hint: 'Set the variable or create the file that signer.passwordEnv / passwordFile names.',
    },
  );
}

async function readOneSecret(
  what: string,
  source: SecretSource,
  env: NodeJS.ProcessEnv,
  missing: { message: string; hint: string },
): Promise<string> {
  const problems: string[] = [];
  const value = await readSecret(what, source, env, problems);
  if (value === undefined) {
    throw new InputError(ErrorCodes.SECRET_MISSING, missing.message, {
      details: problems,
      hint: missing.hint,
    });
  }
  return value;
}

/** Shortest accepted HS256 secret: RFC 7518 §3.2 asks for a key at least as long as the hash. */
export const MIN_JWT_SECRET_BYTES = 32;

/**
 * Reads every secret the configuration names, from the environment or files, and reports every
 * missing one at once. Messages name the variable or file, never a value.
 * @param config - the adapter configuration
 * @param env - the environment to read variables from
 * @returns the secrets
 * @throws InputError (PC_SECRET_MISSING) listing each secret that is missing or unusable
 */
export async function readDaemonSecrets(
  config: AdapterConfig,
  env: NodeJS.ProcessEnv,
): Promise<DaemonSecrets> {
  const problems: string[] = [];
  const take = (what: string, source: SecretSource) => readSecret(what, source, env, problems);

  const { jwt, mtls } = config.auth;
  let jwtKey: DaemonSecrets['jwtKey'] | undefined;
  if (jwt.algorithms.includes('HS256')) {
    const secret = await take('auth.jwt secret', { env: jwt.secretEnv, file: jwt.secretFile });
    if (secret !== undefined) {
      const bytes = new TextEncoder().encode(secret);
      if (bytes.length < MIN_JWT_SECRET_BYTES) {
        problems.push(
          `auth.jwt secret: ${bytes.length} bytes, at least ${MIN_JWT_SECRET_BYTES} needed for HS256`,
        );
      } else {
        jwtKey = { kind: 'secret', secret: bytes };
      }
    }
  } else {
    const pem = await take('auth.jwt publicKeyFile', { file: jwt.publicKeyFile });
    if (pem !== undefined) jwtKey = { kind: 'public-key', pem };
  }
  const signerPassword = await take('signer keystore password', {
    env: config.signer.passwordEnv,
    file: config.signer.passwordFile,
  });
  const walletPassword = await take('wallets master keystore password', {
    env: config.wallets.passwordEnv,
    file: config.wallets.passwordFile,
  });
  const databasePassword =
    config.database.passwordEnv || config.database.passwordFile
      ? await take('database password', {
          env: config.database.passwordEnv,
          file: config.database.passwordFile,
        })
      : undefined;
  const amqpPassword =
    config.amqp && (config.amqp.passwordEnv || config.amqp.passwordFile)
      ? await take('amqp password', { env: config.amqp.passwordEnv, file: config.amqp.passwordFile })
      : undefined;
  let tls: DaemonSecrets['tls'];
  if (mtls) {
    const ca = await take('auth.mtls caFile', { file: mtls.caFile });
    const cert = await take('auth.mtls certFile', { file: mtls.certFile });
    const key = await take('auth.mtls keyFile', { file: mtls.keyFile });
    if (ca !== undefined && cert !== undefined && key !== undefined) tls = { ca, cert, key };
  }

  if (problems.length > 0 || !jwtKey || signerPassword === undefined || walletPassword === undefined) {
    throw new InputError(
      ErrorCodes.SECRET_MISSING,
      `The adapter is missing ${problems.length} secret${problems.length === 1 ? '' : 's'}`,
      {
        details: problems,
        hint: 'Set the named environment variables or create the named files (mode 0600); secrets never go in adapter.yaml.',
      },
    );
  }
  return { jwtKey, signerPassword, walletPassword, databasePassword, amqpPassword, tls };
}
