import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { thrownBy } from '../../../test/support/reference.js';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { ErrorCodes, InputError } from '../../core/errors.js';
import { loadAdapterConfig, parseAdapterConfig } from './load.js';
import { readDaemonSecrets } from './secrets.js';
import type { AdapterConfig } from './types.js';

/** A minimal valid configuration as YAML data; overrides replace whole top-level sections. */
function aConfigData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    network: 'test-net',
    chainId: 4242,
    rpcUrl: 'http://127.0.0.1:8545',
    listen: { host: '127.0.0.1', port: 0 },
    database: { url: 'sqlite:///var/lib/peruri/adapter.db' },
    signer: {
      kind: 'keystore',
      address: '0x00000000000000000000000000000000000000AA',
      keystoreFile: 'minter.json',
    },
    wallets: { masterKeystoreFile: 'wallet-master.json' },
    auth: { jwt: { algorithms: ['HS256'], secretEnv: 'JWT_SECRET', audience: 'test-net-adapter' } },
    deploymentsFile: 'deployments.json',
    ...overrides,
  };
}

function parse(data: Record<string, unknown>, source = '/etc/peruri/adapter.yaml'): AdapterConfig {
  return parseAdapterConfig(stringify(data), source);
}

describe('loading the adapter configuration', () => {
  it.each(['pilot', 'local'])('accepts the file render writes for the %s example', (example) => {
    // Given the reviewed golden adapter.yaml
    const text = readFileSync(
      new URL(`../../../test/golden/${example}/service/adapter.yaml`, import.meta.url),
      'utf8',
    );
    // When it is parsed
    const config = parseAdapterConfig(text, '/srv/peruri-workspace/service/adapter.yaml');
    // Then every section is there, with secrets only named
    expect(config.database.url).toMatch(/^sqlite:\/\/\/.+\/service\/adapter\.db$/);
    expect(config.wallets).toEqual({
      masterKeystoreFile: expect.stringMatching(/\/service\/wallet-master\.json$/),
      passwordEnv: 'PERURI_CHAIN_KEYSTORE_PASSWORD',
      didMethod: 'peruri',
    });
    expect(config.auth.jwt).toEqual({
      algorithms: ['HS256'],
      secretEnv: 'PERURI_CHAIN_ADAPTER_JWT_SECRET',
      audience: `peruri-${example}-adapter`,
      clockToleranceSeconds: 30,
    });
    expect(config.http).toEqual({ bodyLimitBytes: 65_536, shutdownTimeoutMs: 10_000 });
  });

  it('fills defaults, lowercases the signer address and resolves paths against the file', () => {
    // Given a minimal file in /etc/peruri with relative paths
    // When it is parsed
    const config = parse(aConfigData());
    // Then defaults are filled in and paths are absolute
    expect(config.http).toEqual({ bodyLimitBytes: 65_536, shutdownTimeoutMs: 10_000 });
    expect(config.intake).toEqual({ groupCommitMaxDelayMs: 2, groupCommitMaxBatch: 500 });
    expect(config.log).toEqual({ level: 'info' });
    expect(config.database.poolSize).toBe(10);
    expect(config.auth.jwt.clockToleranceSeconds).toBe(30);
    expect(config.signer).toEqual({
      kind: 'keystore',
      address: '0x00000000000000000000000000000000000000aa',
      keystoreFile: '/etc/peruri/minter.json',
      passwordEnv: 'PERURI_CHAIN_KEYSTORE_PASSWORD',
    });
    expect(config.wallets.masterKeystoreFile).toBe('/etc/peruri/wallet-master.json');
    expect(config.deploymentsFile).toBe('/etc/peruri/deployments.json');
  });

  it('lists every schema problem at once, with path, expectation, finding and line', () => {
    // Given a file with four independent mistakes
    const data = aConfigData({
      chainId: 'one',
      listen: { host: '127.0.0.1', port: 70_000 },
      colour: 'blue',
    });
    delete data.deploymentsFile;
    // When it is parsed
    const error = thrownBy(() => parse(data));
    // Then each mistake is one line
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain('(4 problems)');
    expect(error.details).toEqual([
      '(top level) (line 1): missing required property "deploymentsFile"',
      'colour (line 21): unknown property; expected one of $schema, network, chainId, rpcUrl, listen, database, signer, wallets, auth, http, intake, mirror, amqp, log, deploymentsFile',
      'chainId (line 2): expected integer (the chain id), found "one"',
      'listen.port (line 6): expected a TCP port (0: any free port) (<= 65535), found 70000',
    ]);
  });

  it('refuses secrets in the file and mixed JWT key kinds, without echoing the secret', () => {
    // Given a PostgreSQL URL with a password, and HS256 mixed with ES256
    const data = aConfigData({
      database: { url: 'postgres://adapter:hunter2-secret@db.internal:5432/peruri' },
      auth: { jwt: { algorithms: ['HS256', 'ES256'], audience: 'x', publicKeyFile: 'k.pem' } },
    });
    // When it is parsed
    const error = thrownBy(() => parse(data));
    // Then every rule is reported and the password appears nowhere
    expect(error.details).toEqual([
      'auth.jwt.algorithms (line 18): HS256 cannot be combined with ES256 or RS256; run one kind of key',
      'auth.jwt (line 17): HS256 needs exactly one of secretEnv or secretFile',
      'auth.jwt.publicKeyFile (line 21): not used with HS256; remove it',
      'database.url (line 8): holds a password; give it with passwordEnv or passwordFile instead, never in this file',
    ]);
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(error.describe()).not.toContain('hunter2');
  });

  it('takes an optional RabbitMQ intake with defaults, and refuses a password in its URL', () => {
    // Given a minimal amqp section, then one with a password in the URL and a dead-letter
    // exchange on a queue the daemon is told not to declare
    const minimal = parse(aConfigData({ amqp: { url: 'amqp://adapter@mq.internal/peruri', queue: 'acts' } }));
    const error = thrownBy(() =>
      parse(
        aConfigData({
          amqp: {
            url: 'amqp://adapter:hunter2@mq.internal/peruri',
            passwordEnv: 'AMQP_PASSWORD',
            passwordFile: 'amqp-password',
            queue: 'acts',
            declare: false,
            deadLetterExchange: 'acts.rejected',
          },
        }),
      ),
    );
    // Then the defaults are filled in
    expect(minimal.amqp).toEqual({
      url: 'amqp://adapter@mq.internal/peruri',
      queue: 'acts',
      declare: true,
      prefetch: 256,
      reconnectDelayMs: 1000,
    });
    // And every problem of the other is listed, the password nowhere
    expect(error.details).toEqual([
      'amqp.url (line 23): holds a password; give it with passwordEnv or passwordFile instead, never in this file',
      'amqp (line 23): give passwordEnv or passwordFile, not both',
      'amqp.deadLetterExchange (line 28): only applies to a queue the daemon declares; set it on the existing queue instead',
    ]);
    expect(error.describe()).not.toContain('hunter2');
  });

  it('never echoes a password from a URL that fails the schema', () => {
    const error = thrownBy(() => parse(aConfigData({ database: { url: 'mysql://root:hunter2@db/x' } })));
    expect(error.details.join('\n')).toContain('found "mysql://root:***@db/x"');
    expect(error.describe()).not.toContain('hunter2');
  });

  it('reports YAML syntax errors with line and column, and a missing file', async () => {
    const syntax = thrownBy(() => parseAdapterConfig('network: [unclosed\nchainId: 1\n', '/x/adapter.yaml'));
    expect(syntax.details[0]).toMatch(/^line \d+, column \d+: /);
    const dir = await aTempDir();
    await expect(loadAdapterConfig(join(dir, 'missing.yaml'))).rejects.toMatchObject({
      code: ErrorCodes.CONFIG_INVALID,
      hint: expect.stringContaining('--config'),
    });
  });

  it('loads a file from disk with the ES256 public-key form', async () => {
    const dir = await aTempDir();
    const file = join(dir, 'adapter.yaml');
    await writeFile(
      file,
      stringify(
        aConfigData({
          auth: {
            jwt: { algorithms: ['ES256'], publicKeyFile: 'backend.pem', audience: 'a', issuer: 'php' },
          },
        }),
      ),
    );
    const { path, config } = await loadAdapterConfig(file);
    expect(path).toBe(file);
    expect(config.auth.jwt).toMatchObject({ publicKeyFile: join(dir, 'backend.pem'), issuer: 'php' });
  });
});

describe('reading the daemon secrets', () => {
  it('reads every secret from the environment or files', async () => {
    // Given secrets in variables and one in a file
    const dir = await aTempDir();
    await writeFile(join(dir, 'wallet-password'), 'wallet password from file\n');
    const config = parse(
      aConfigData({
        wallets: { masterKeystoreFile: 'w.json', passwordFile: join(dir, 'wallet-password') },
        database: { url: 'postgres://adapter@db:5432/peruri', passwordEnv: 'DB_PASSWORD' },
      }),
    );
    // When they are read
    const secrets = await readDaemonSecrets(config, {
      JWT_SECRET: 'x'.repeat(32),
      PERURI_CHAIN_KEYSTORE_PASSWORD: 'keystore password',
      DB_PASSWORD: 'db password',
    });
    // Then each has its value, the file's trailing newline dropped
    expect(new TextDecoder().decode((secrets.jwtKey as { secret: Uint8Array }).secret)).toBe('x'.repeat(32));
    expect(secrets.signerPassword).toBe('keystore password');
    expect(secrets.walletPassword).toBe('wallet password from file');
    expect(secrets.databasePassword).toBe('db password');
    expect(secrets.tls).toBeUndefined();
  });

  it('lists every missing or unusable secret by name, never by value', async () => {
    // Given a JWT secret that is too short, and no keystore password
    const config = parse(aConfigData());
    // When the secrets are read
    const error = await readDaemonSecrets(config, { JWT_SECRET: 'short-secret' }).then(
      () => undefined,
      (caught: unknown) => caught as InputError,
    );
    // Then both problems are reported, naming variables only
    expect(error).toBeInstanceOf(InputError);
    expect(error!.code).toBe(ErrorCodes.SECRET_MISSING);
    expect(error!.details).toEqual([
      'auth.jwt secret: 12 bytes, at least 32 needed for HS256',
      'signer keystore password: the environment variable PERURI_CHAIN_KEYSTORE_PASSWORD is not set',
      'wallets master keystore password: the environment variable PERURI_CHAIN_KEYSTORE_PASSWORD is not set',
    ]);
    expect(error!.describe()).not.toContain('short-secret');
  });
});
