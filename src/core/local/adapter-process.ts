import { adapterNodeOptions } from '../adapter-node-options.js';
import { packagePath } from '../package-paths.js';
import { LOCAL_DIR } from './state.js';

/**
 * What `up` needs of the adapter's configuration (service/adapter.yaml): a structural subset of
 * the daemon's own AdapterConfig, which core may not import; the edge hands over the daemon's loader.
 */
export interface LocalAdapterConfig {
  chainId: number;
  rpcUrl: string;
  listen: { host: string; port: number };
  database: { url: string };
  signer: { passwordEnv?: string; passwordFile?: string };
  wallets: { passwordEnv?: string; passwordFile?: string };
  auth: {
    jwt: { algorithms: string[]; secretEnv?: string; secretFile?: string; audience: string; issuer?: string };
    mtls?: object;
  };
  http: { shutdownTimeoutMs: number };
  deploymentsFile: string;
}

/** Reads and validates an adapter configuration file (the daemon's `loadAdapterConfig`). */
export type LoadAdapterConfig = (file: string) => Promise<{ path: string; config: LocalAdapterConfig }>;

/** How the adapter daemon is started as a local process. */
export interface AdapterLaunch {
  name: 'adapter';
  file: string;
  args: string[];
  /** The complete environment, secrets included: never shown or logged. */
  env: NodeJS.ProcessEnv;
  /** Workspace-relative. */
  logFile: string;
  /** Where it answers, from its configuration's listen address. */
  url: string;
  /** Its own shutdown limit plus a margin: how long SIGTERM may take. */
  stopGraceMs: number;
}

/** Options of {@link planAdapterLaunch}. */
export interface PlanAdapterLaunchOptions {
  configFile: string;
  config: LocalAdapterConfig;
  /** The HS256 secret, put in the variable the configuration names (when it names one). */
  jwtSecret: string;
  /** The keystore password, put in the variables the configuration names for the keystores. */
  keystorePassword: string;
  /** The environment to start from (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
}

/**
 * Plans `node <package>/bin/run.js adapter start --config FILE`, exactly what a service machine's
 * unit runs, with the secrets handed over in the environment variables its configuration names
 * (secrets in files named by the configuration are read by the adapter itself).
 * @param options - configuration, secrets, base environment
 * @returns the launch
 */
export function planAdapterLaunch(options: PlanAdapterLaunchOptions): AdapterLaunch {
  const { config } = options;
  const env: NodeJS.ProcessEnv = { ...(options.baseEnv ?? process.env) };
  // A --json or other flag meant for `up` must not leak into the daemon through its env twin.
  for (const name of Object.keys(env)) if (name.startsWith('PERURI_CHAIN_')) delete env[name];
  env.NODE_OPTIONS = adapterNodeOptions(env.NODE_OPTIONS);
  const { jwt } = config.auth;
  if (jwt.secretEnv && !jwt.secretFile) env[jwt.secretEnv] = options.jwtSecret;
  for (const keystore of [config.signer, config.wallets]) {
    if (keystore.passwordEnv && !keystore.passwordFile) env[keystore.passwordEnv] = options.keystorePassword;
  }
  const host =
    config.listen.host === '0.0.0.0' || config.listen.host === '::' ? '127.0.0.1' : config.listen.host;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    name: 'adapter',
    file: process.execPath,
    args: [packagePath('bin', 'run.js'), 'adapter', 'start', '--config', options.configFile],
    env,
    logFile: `${LOCAL_DIR}/adapter.log`,
    url: `${config.auth.mtls ? 'https' : 'http'}://${shownHost}:${config.listen.port}`,
    stopGraceMs: config.http.shutdownTimeoutMs + 5_000,
  };
}
