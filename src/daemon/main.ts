import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import { ErrorCodes, RefusedError } from '../core/errors.js';
import { loadAdapterConfig } from './config/load.js';
import { createDaemon, type Daemon } from './create-daemon.js';
import { createLogger } from './logger.js';
import { signerReloader, type SignerReloadResult } from './signer-reload.js';

export interface StartDaemonOptions {
  /** The adapter configuration file (`service/adapter.yaml`). */
  configFile: string;
  /** Where the secrets named in the configuration are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Stops the daemon when aborted. The CLI's base command aborts it on SIGTERM and SIGINT (a
   * second signal exits at once with 130).
   */
  signal: AbortSignal;
  /**
   * Called once the server listens, with its URL (the real port when the configuration says 0)
   * and the function that reloads the signer from the configuration file (what SIGHUP runs).
   */
  onListening?: (info: {
    url: string;
    network: string;
    reloadSigner: () => Promise<SignerReloadResult>;
  }) => void;
  /** Where the JSON log goes (default: stderr). */
  logDestination?: DestinationStream;
}

export interface StartDaemonResult {
  url: string;
  /** `clean`: every request in flight finished; `timeout`: some were cut off at the limit. */
  shutdown: 'clean' | 'timeout';
}

/**
 * Runs the adapter daemon until the signal aborts: loads the configuration, opens the keystores
 * and the database (migrating it), listens, and on abort shuts down in order: new requests get
 * 503, requests in flight get up to `http.shutdownTimeoutMs` to finish, then the chain connection
 * and the database close (the store flushes pending group commits first).
 * @param options - configuration file, environment, abort signal, listening callback
 * @returns once fully stopped: the URL it served and how the shutdown went
 * @throws InputError (configuration, secrets, keystores), RemoteError (database),
 *   RefusedError (PC_LISTEN_FAILED) when the address cannot be bound
 */
export async function startDaemon(options: StartDaemonOptions): Promise<StartDaemonResult> {
  const { config, path } = await loadAdapterConfig(options.configFile);
  const logger = createLogger({ level: config.log.level, destination: options.logDestination });
  try {
    logger.info({ config: path, network: config.network, chainId: config.chainId }, 'starting');
    const daemon = await createDaemon(config, {
      env: options.env ?? process.env,
      logger,
      processMetrics: true,
    });
    try {
      await daemon.app.listen({ host: config.listen.host, port: config.listen.port });
    } catch (cause) {
      await daemon.app.close();
      throw new RefusedError(
        ErrorCodes.LISTEN_FAILED,
        `Cannot listen on ${config.listen.host}:${config.listen.port}: ${(cause as Error).message}`,
        { hint: 'Stop whatever uses that port, or change listen in the adapter configuration.', cause },
      );
    }
    const address = daemon.app.server.address() as AddressInfo;
    const url = `${config.auth.mtls ? 'https' : 'http'}://${urlHost(config.listen.host)}:${address.port}`;
    logger.info({ url }, 'listening');
    const stopWorker = new AbortController();
    const worker = daemon.worker.start(stopWorker.signal).catch((error: unknown) => {
      logger.error({ err: error }, 'the mirror worker stopped on an error');
    });
    daemon.amqp?.start();
    const reloadSigner = signerReloader({
      daemon,
      config,
      configFile: path,
      env: options.env ?? process.env,
      logger,
    });
    options.onListening?.({ url, network: config.network, reloadSigner });

    await aborted(options.signal);
    const shutdown = await stop(daemon, { worker, stopWorker }, config.http.shutdownTimeoutMs, logger);
    logger.info({ shutdown }, 'stopped');
    return { url, shutdown };
  } finally {
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
  }
}

/**
 * The shutdown order (STYLE rule 14): new requests get 503 and no new connection is taken; the
 * RabbitMQ intake stops taking deliveries and settles those in hand (unsettled ones are
 * redelivered by the broker, replays then); the
 * worker stops cutting batches and finishes the round it is in (what it signed but did not see
 * mined is resumed by the next start); requests in flight finish; then the RPC connections and
 * the database close in the app's onClose hooks, the store only once the worker has stopped. All
 * of it within `timeoutMs`.
 */
async function stop(
  daemon: Daemon,
  running: { worker: Promise<void>; stopWorker: AbortController },
  timeoutMs: number,
  logger: Logger,
): Promise<'clean' | 'timeout'> {
  logger.info({ timeoutMs }, 'shutting down: new requests get 503, requests in flight may finish');
  daemon.lifecycle.draining = true;
  // The RabbitMQ intake stops taking deliveries and settles those in hand before the store closes.
  const amqpStopped = daemon.amqp?.stop() ?? Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  // The store waits for the worker (its onClose), but not beyond the limit.
  daemon.lifecycle.background = Promise.race([
    Promise.all([running.worker, amqpStopped]).then(() => undefined),
    deadline.then(() => undefined),
  ]);
  running.stopWorker.abort();
  const closing = daemon.app.close();
  const outcome = await Promise.race([closing.then(() => 'clean' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    logger.warn({ timeoutMs }, 'requests still in flight at the shutdown limit: closing their connections');
    daemon.app.server.closeAllConnections();
    await closing;
  }
  return outcome;
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
