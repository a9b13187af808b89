import type { Logger } from 'pino';
import { canonicalJson } from './canonical-json.js';
import { loadAdapterConfig } from './config/load.js';
import { readSignerPassword } from './config/secrets.js';
import type { AdapterConfig } from './config/types.js';
import type { Daemon } from './create-daemon.js';
import { keystoreSigner } from './services/signer.js';

/** What one signer reload did. */
export interface SignerReloadResult {
  /** `replaced`: a new signer signs from the next round on; `unchanged`: the configuration names the running one. */
  outcome: 'replaced' | 'unchanged';
  /** The signer now. */
  address: string;
  /** The signer before the reload. */
  previous: string;
  /** Top-level configuration sections that differ from the running ones: they wait for a restart. */
  restartNeeded: string[];
}

/** Options of {@link signerReloader}. */
export interface SignerReloaderOptions {
  daemon: Daemon;
  /** The configuration the daemon was started with. */
  config: AdapterConfig;
  configFile: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

/**
 * Makes the function the daemon runs on SIGHUP: it reads the configuration file again and, when
 * its `signer` section names another key, opens that keystore and hands it to the mirror worker
 * between two rounds. This is how an account rotation switches the adapter to a new minter key
 * without a restart: intake never stops, and what the old key signed is still settled. Nothing
 * else is reloaded; other changed sections are logged as waiting for a restart. A reload that
 * fails (unreadable keystore, wrong password or address) changes nothing and is logged and counted.
 * Reloads run one at a time.
 * @param options - the daemon, its running configuration and where secrets are read from
 * @returns the reload function; it rejects with the typed error of a failed reload
 */
export function signerReloader(options: SignerReloaderOptions): () => Promise<SignerReloadResult> {
  const { daemon, configFile, env } = options;
  const logger = options.logger.child({ part: 'signer-reload' });
  const metrics = daemon.metrics.mirror.signerReloads;
  let running = options.config;
  let queue: Promise<unknown> = Promise.resolve();

  const reload = async (): Promise<SignerReloadResult> => {
    const { config } = await loadAdapterConfig(configFile);
    const restartNeeded = differingSections(running, config);
    const previous = daemon.worker.signerAddress;
    const address = config.signer.address.toLowerCase();
    if (address === previous) {
      return { outcome: 'unchanged', address, previous, restartNeeded };
    }
    const signer = await keystoreSigner({
      keystoreFile: config.signer.keystoreFile,
      password: await readSignerPassword(config, env),
      expectedAddress: config.signer.address,
    });
    await daemon.worker.replaceSigner(signer);
    running = { ...running, signer: config.signer };
    await daemon.store.appendAudit({
      actor: 'operator',
      action: 'signer.replaced',
      subject: signer.address,
      details: { previous, keystoreFile: config.signer.keystoreFile },
    });
    return { outcome: 'replaced', address: signer.address, previous, restartNeeded };
  };

  return () => {
    const result = queue.then(reload);
    queue = result.catch(() => undefined);
    return result.then(
      (done) => {
        metrics.inc({ outcome: done.outcome });
        logger.info(
          { outcome: done.outcome, signer: done.address, previous: done.previous },
          done.outcome === 'replaced' ? 'signer replaced' : 'signer unchanged',
        );
        if (done.restartNeeded.length > 0) {
          logger.warn(
            { sections: done.restartNeeded },
            'the configuration changed outside signer: those changes take effect at the next restart',
          );
        }
        return done;
      },
      (error: unknown) => {
        metrics.inc({ outcome: 'failed' });
        // The typed errors name the file and the cause, never a secret.
        logger.error(
          { reason: error instanceof Error ? error.message : String(error) },
          'signer reload failed; the running signer stays',
        );
        throw error;
      },
    );
  };
}

function differingSections(running: AdapterConfig, next: AdapterConfig): string[] {
  const keys = new Set([...Object.keys(running), ...Object.keys(next)]);
  keys.delete('signer');
  return [...keys]
    .filter(
      (key) =>
        canonicalJson((running as unknown as Record<string, unknown>)[key] ?? null) !==
        canonicalJson((next as unknown as Record<string, unknown>)[key] ?? null),
    )
    .sort();
}
