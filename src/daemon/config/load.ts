import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { ErrorCodes, InputError } from '../../core/errors.js';
import { problemAt, readYaml, schemaProblems } from '../../core/yaml-validation.js';
import { adapterConfigSchema } from './schema.js';
import type { AdapterConfig, LoadedAdapterConfig } from './types.js';

/** The variable that holds the keystore password when the config names none. */
export const DEFAULT_KEYSTORE_PASSWORD_ENV = 'PERURI_CHAIN_KEYSTORE_PASSWORD';

let compiled: ReturnType<Ajv['compile']> | undefined;

function validator() {
  compiled ??= new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true }).compile(
    adapterConfigSchema,
  );
  return compiled;
}

/**
 * Reads and validates the adapter configuration file.
 * @param path - the YAML file (`service/adapter.yaml`)
 * @returns the typed configuration with defaults filled in and paths made absolute
 * @throws InputError (PC_CONFIG_INVALID) listing every problem with its path and line
 */
export async function loadAdapterConfig(path: string): Promise<LoadedAdapterConfig> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (cause) {
    throw new InputError(ErrorCodes.CONFIG_INVALID, `Cannot read the adapter configuration ${absolute}`, {
      hint: 'Pass the service/adapter.yaml that `peruri-chain init` wrote, with --config or PERURI_CHAIN_CONFIG.',
      cause,
    });
  }
  return { path: absolute, config: parseAdapterConfig(text, absolute) };
}

/**
 * Parses and validates adapter configuration text: YAML syntax, the JSON Schema (every error
 * collected), then the rules that tie fields together.
 * @param text - the YAML text
 * @param source - the file's absolute path; relative paths in it resolve against its folder
 * @returns the configuration
 * @throws InputError (PC_CONFIG_INVALID)
 */
export function parseAdapterConfig(text: string, source: string): AdapterConfig {
  const parsed = readYaml(text);
  if ('syntaxErrors' in parsed) throw invalid(source, parsed.syntaxErrors);
  const validate = validator();
  if (!validate(parsed.source.data)) throw invalid(source, schemaProblems(validate.errors, parsed.source));
  const config = parsed.source.data as AdapterConfig;
  const problems = checkRules(config).map(({ path, message }) => problemAt(parsed.source, path, message));
  if (problems.length > 0) throw invalid(source, problems);
  return resolvePaths(config, dirname(source));
}

interface RuleProblem {
  path: (string | number)[];
  message: string;
}

function checkRules(config: AdapterConfig): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const { jwt } = config.auth;
  const at = ['auth', 'jwt'];
  if (jwt.algorithms.includes('HS256')) {
    if (jwt.algorithms.length > 1) {
      // A verifier that takes both a shared secret and a public key invites algorithm confusion.
      problems.push({
        path: [...at, 'algorithms'],
        message: 'HS256 cannot be combined with ES256 or RS256; run one kind of key',
      });
    }
    if (Boolean(jwt.secretEnv) === Boolean(jwt.secretFile)) {
      problems.push({ path: at, message: 'HS256 needs exactly one of secretEnv or secretFile' });
    }
    if (jwt.publicKeyFile) {
      problems.push({ path: [...at, 'publicKeyFile'], message: 'not used with HS256; remove it' });
    }
  } else {
    if (!jwt.publicKeyFile) {
      problems.push({ path: at, message: `${jwt.algorithms.join(', ')} needs publicKeyFile (PEM)` });
    }
    if (jwt.secretEnv || jwt.secretFile) {
      problems.push({ path: at, message: 'secretEnv and secretFile are only for HS256; remove them' });
    }
  }

  const { database } = config;
  if (database.url.startsWith('sqlite:')) {
    if (database.passwordEnv || database.passwordFile) {
      problems.push({ path: ['database'], message: 'an SQLite database takes no password' });
    }
  } else {
    problems.push(...serviceUrlProblems('database', database, 'postgres://'));
  }
  const { amqp } = config;
  if (amqp) {
    problems.push(...serviceUrlProblems('amqp', amqp, 'amqp://'));
    if (amqp.deadLetterExchange !== undefined && !amqp.declare) {
      problems.push({
        path: ['amqp', 'deadLetterExchange'],
        message: 'only applies to a queue the daemon declares; set it on the existing queue instead',
      });
    }
  }
  for (const section of ['signer', 'wallets'] as const) {
    problems.push(...bothSecretSources(section, config[section]));
  }
  return problems;
}

/** A server's URL that must parse and hold no password, with the password kept elsewhere. */
function serviceUrlProblems(
  section: 'database' | 'amqp',
  server: { url: string; passwordEnv?: string; passwordFile?: string },
  form: string,
): RuleProblem[] {
  const problems: RuleProblem[] = [];
  let parsed: URL | undefined;
  try {
    parsed = new URL(server.url);
  } catch {
    problems.push({ path: [section, 'url'], message: `not a valid ${form} URL` });
  }
  if (parsed?.password) {
    problems.push({
      path: [section, 'url'],
      message: 'holds a password; give it with passwordEnv or passwordFile instead, never in this file',
    });
  }
  return [...problems, ...bothSecretSources(section, server)];
}

function bothSecretSources(
  section: string,
  source: { passwordEnv?: string; passwordFile?: string },
): RuleProblem[] {
  return source.passwordEnv && source.passwordFile
    ? [{ path: [section], message: 'give passwordEnv or passwordFile, not both' }]
    : [];
}

function resolvePaths(config: AdapterConfig, base: string): AdapterConfig {
  const path = (value: string): string => (isAbsolute(value) ? value : resolve(base, value));
  const optional = (value: string | undefined): string | undefined =>
    value === undefined ? undefined : path(value);
  const keystoreSecret = (section: { passwordEnv?: string; passwordFile?: string }) =>
    section.passwordFile
      ? { passwordFile: path(section.passwordFile) }
      : { passwordEnv: section.passwordEnv ?? DEFAULT_KEYSTORE_PASSWORD_ENV };
  const { jwt, mtls } = config.auth;
  return {
    ...config,
    database: {
      ...config.database,
      ...(config.database.passwordFile ? { passwordFile: path(config.database.passwordFile) } : {}),
    },
    signer: {
      kind: config.signer.kind,
      address: config.signer.address.toLowerCase(),
      keystoreFile: path(config.signer.keystoreFile),
      ...keystoreSecret(config.signer),
    },
    wallets: {
      masterKeystoreFile: path(config.wallets.masterKeystoreFile),
      didMethod: config.wallets.didMethod,
      ...keystoreSecret(config.wallets),
    },
    auth: {
      jwt: { ...jwt, secretFile: optional(jwt.secretFile), publicKeyFile: optional(jwt.publicKeyFile) },
      ...(mtls
        ? { mtls: { caFile: path(mtls.caFile), certFile: path(mtls.certFile), keyFile: path(mtls.keyFile) } }
        : {}),
    },
    ...(config.amqp?.passwordFile
      ? { amqp: { ...config.amqp, passwordFile: path(config.amqp.passwordFile) } }
      : {}),
    deploymentsFile: path(config.deploymentsFile),
  };
}

function invalid(source: string, details: string[]): InputError {
  return new InputError(
    ErrorCodes.CONFIG_INVALID,
    `The adapter configuration ${source} is not valid (${details.length} problem${details.length === 1 ? '' : 's'})`,
    { details, hint: 'Fix every listed problem, or re-create the file with `peruri-chain render`.' },
  );
}
