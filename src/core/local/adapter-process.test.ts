import { describe, expect, it } from 'vitest';
import { ADAPTER_NODE_OPTIONS } from '../adapter-node-options.js';
import { planAdapterLaunch, type LocalAdapterConfig } from './adapter-process.js';

const aConfig = (jwt: Partial<LocalAdapterConfig['auth']['jwt']> = {}): LocalAdapterConfig => ({
  chainId: 1337,
  rpcUrl: 'http://127.0.0.1:8548',
  listen: { host: '127.0.0.1', port: 8080 },
  database: { url: 'sqlite:///ws/service/adapter.db' },
  signer: { passwordEnv: 'PERURI_CHAIN_KEYSTORE_PASSWORD' },
  wallets: { passwordEnv: 'WALLET_PASSWORD' },
  auth: {
    jwt: { algorithms: ['HS256'], secretEnv: 'PERURI_CHAIN_ADAPTER_JWT_SECRET', audience: 'a', ...jwt },
  },
  http: { shutdownTimeoutMs: 10_000 },
  deploymentsFile: '/ws/service/deployments.json',
});

const aLaunch = (baseEnv: NodeJS.ProcessEnv) =>
  planAdapterLaunch({
    configFile: '/ws/service/adapter.yaml',
    config: aConfig(),
    jwtSecret: 'jwt-secret',
    keystorePassword: 'dev-password',
    baseEnv,
  });

describe('the adapter launch', () => {
  it('runs `adapter start --config` with the secrets in the variables the configuration names, and nothing else of ours', () => {
    // Given an environment with flags' env twins meant for `up`
    const baseEnv = { PATH: '/bin', PERURI_CHAIN_JSON: '1', PERURI_CHAIN_DIR: '/elsewhere' };

    // When the launch is planned
    const launch = aLaunch(baseEnv);

    // Then the command is the package's CLI, secrets are in the environment only
    expect(launch.file).toBe(process.execPath);
    expect(launch.args.slice(1)).toEqual(['adapter', 'start', '--config', '/ws/service/adapter.yaml']);
    expect(launch.args.join(' ')).not.toContain('dev-password');
    expect(launch.env).toEqual({
      PATH: '/bin',
      NODE_OPTIONS: ADAPTER_NODE_OPTIONS,
      PERURI_CHAIN_ADAPTER_JWT_SECRET: 'jwt-secret',
      PERURI_CHAIN_KEYSTORE_PASSWORD: 'dev-password',
      WALLET_PASSWORD: 'dev-password',
    });
    expect(launch.url).toBe('http://127.0.0.1:8080');
    expect(launch.stopGraceMs).toBeGreaterThan(10_000);
  });

  it("bounds the daemon's heap and lets the operator's own NODE_OPTIONS win", () => {
    // Given an environment that already sets a larger heap
    const baseEnv = { NODE_OPTIONS: '--max-old-space-size=512' };

    // When the launch is planned
    const launch = aLaunch(baseEnv);

    // Then the daemon's limits come first and the operator's setting last (Node keeps the last)
    expect(launch.env.NODE_OPTIONS).toBe(`${ADAPTER_NODE_OPTIONS} --max-old-space-size=512`);
    expect(ADAPTER_NODE_OPTIONS).toMatch(/--max-old-space-size=\d+/);
  });

  it('leaves a secret the configuration reads from a file to the adapter', () => {
    // When the JWT secret is configured as a file
    const launch = planAdapterLaunch({
      configFile: '/ws/service/adapter.yaml',
      config: aConfig({ secretEnv: undefined, secretFile: '/run/secrets/jwt' }),
      jwtSecret: 'jwt-secret',
      keystorePassword: 'dev-password',
      baseEnv: {},
    });

    // Then it is not put in the environment
    expect(Object.values(launch.env)).not.toContain('jwt-secret');
  });
});
