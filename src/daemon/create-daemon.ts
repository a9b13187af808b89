import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { jwtVerifier } from './auth.js';
import { readDaemonSecrets } from './config/secrets.js';
import type { AdapterConfig } from './config/types.js';
import type { DaemonMetrics } from './metrics.js';
import type { Lifecycle } from './plugins/lifecycle.js';
import { ActivityService } from './services/activities.js';
import { rpcChainProbe, type ChainProbe } from './services/chain-probe.js';
import { loadWalletMaster, type WalletMaster } from './services/master-secret.js';
import { keystoreSigner, type Signer } from './services/signer.js';
import { WalletService } from './services/wallets.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { jsonRpcMirrorChain, type MirrorChain } from './worker/chain.js';
import { AmqpIntake } from './intake/amqp-intake.js';
import { readMirrorDeployment } from './worker/deployment.js';
import { EvidenceReader } from './worker/evidence.js';
import { MirrorWorker } from './worker/mirror-worker.js';

export interface CreateDaemonOptions {
  /** Where secrets named in the configuration are read from. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Replaces the JSON-RPC chain probe (tests). */
  chainProbe?: ChainProbe;
  /** Replaces the mirror worker's JSON-RPC connection (tests). */
  mirrorChain?: MirrorChain;
  processMetrics?: boolean;
}

/** The daemon's parts, wired and ready to listen. */
export interface Daemon {
  app: FastifyInstance;
  store: Store;
  /** The mirror worker's signer; checked against the configuration at start. */
  signer: Signer;
  /** Not running until `start(signal)`; startDaemon starts it once the server listens. */
  worker: MirrorWorker;
  /** The RabbitMQ intake when configured; startDaemon starts it once the server listens. */
  amqp: AmqpIntake | undefined;
  master: WalletMaster;
  lifecycle: Lifecycle;
  metrics: DaemonMetrics;
}

/**
 * Wires the daemon from its configuration: reads secrets, opens both keystores (in parallel;
 * one scrypt each), opens and migrates the database, and builds the app. Nothing listens yet.
 * If a later step fails, what was opened is closed again.
 * @param config - the validated configuration
 * @param options - environment, logger, optional chain probe
 * @returns the parts
 * @throws InputError for missing secrets or wrong keystores; RemoteError when the database fails
 */
export async function createDaemon(config: AdapterConfig, options: CreateDaemonOptions): Promise<Daemon> {
  const secrets = await readDaemonSecrets(config, options.env);
  const verifier = jwtVerifier(config.auth.jwt, secrets.jwtKey);
  const [master, signer] = await Promise.all([
    loadWalletMaster({ keystoreFile: config.wallets.masterKeystoreFile, password: secrets.walletPassword }),
    keystoreSigner({
      keystoreFile: config.signer.keystoreFile,
      password: secrets.signerPassword,
      expectedAddress: config.signer.address,
    }),
  ]);
  const { store, applied } = await openStore({
    url: config.database.url,
    password: secrets.databasePassword,
    poolSize: config.database.poolSize,
    groupCommit: {
      maxDelayMs: config.intake.groupCommitMaxDelayMs,
      maxBatch: config.intake.groupCommitMaxBatch,
    },
    onIdleError: (error) => options.logger.warn({ err: error }, 'an idle database connection failed'),
  });
  try {
    options.logger.info(
      {
        dialect: store.dialect,
        migrationsApplied: applied,
        signer: signer.address,
        walletMaster: master.fingerprint,
      },
      'store open',
    );
    const rpc = options.chainProbe
      ? undefined
      : rpcChainProbe({ rpcUrl: config.rpcUrl, chainId: config.chainId });
    const mirrorChain = options.mirrorChain ?? jsonRpcMirrorChain(config.rpcUrl);
    const wallets = new WalletService(store, master.deriver, config.wallets.didMethod);
    const lifecycle: Lifecycle = { draining: false };
    const activities = new ActivityService(store, wallets, master.hasher, new EvidenceReader(store.mirror));
    let amqp: AmqpIntake | undefined;
    const { app, metrics } = buildApp({
      store,
      wallets,
      activities,
      ...(config.amqp ? { amqpStatus: () => amqp!.status() } : {}),
      verifier,
      chainProbe: options.chainProbe ?? rpc!.probe,
      logger: options.logger,
      bodyLimitBytes: config.http.bodyLimitBytes,
      tls: secrets.tls,
      lifecycle,
      processMetrics: options.processMetrics,
      onClose: () => {
        rpc?.close();
        mirrorChain.close();
      },
    });
    const worker = new MirrorWorker({
      store,
      chain: mirrorChain,
      signer,
      chainId: config.chainId,
      deployment: () => readMirrorDeployment(config.deploymentsFile, config.chainId),
      settings: config.mirror,
      metrics: metrics.mirror,
      logger: options.logger.child({ part: 'mirror' }),
    });
    if (config.amqp) {
      amqp = new AmqpIntake({
        config: config.amqp,
        password: secrets.amqpPassword,
        activities,
        bodyLimitBytes: config.http.bodyLimitBytes,
        logger: options.logger.child({ part: 'amqp' }),
        registry: metrics.registry,
      });
    }
    return { app, store, signer, master, lifecycle, metrics, worker, amqp };
  } catch (error) {
    await store.close();
    throw error;
  }
}
