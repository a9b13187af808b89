import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { packageVersion } from '../core/package-paths.js';
import type { TokenVerifier } from './auth.js';
import { createMetrics, type DaemonMetrics } from './metrics.js';
import { authPlugin } from './plugins/auth.js';
import { lifecyclePlugin, type Lifecycle } from './plugins/lifecycle.js';
import { observabilityPlugin } from './plugins/observability.js';
import { storePlugin } from './plugins/store.js';
import { activityTrackRoute } from './routes/activity-track.post.js';
import { activityRoute } from './routes/activity.get.js';
import type { RouteContext } from './routes/context.js';
import { docsRoute } from './routes/docs.get.js';
import { healthRoute } from './routes/health.get.js';
import { metricsRoute } from './routes/metrics.get.js';
import { mintTokenRoute } from './routes/mint-token.post.js';
import { readyRoute } from './routes/ready.get.js';
import { errorBodySchema } from './routes/schemas.js';
import { walletStatusRoute } from './routes/wallet-status.get.js';
import type { ActivityService } from './services/activities.js';
import type { ChainProbe } from './services/chain-probe.js';
import type { WalletService } from './services/wallets.js';
import type { Store } from './store/types.js';
import type { AmqpStatus } from './intake/amqp-intake.js';

/** Everything the HTTP app needs, built by the caller (main, or a test). */
export interface AppDeps {
  store: Store;
  wallets: WalletService;
  activities: ActivityService;
  verifier: TokenVerifier;
  /** Readiness of the chain; tests pass one over a real anvil or a stub. */
  chainProbe: ChainProbe;
  logger: Logger;
  bodyLimitBytes: number;
  /** HTTPS requiring a client certificate signed by `ca` (mTLS). */
  tls?: { ca: string; cert: string; key: string };
  /** The RabbitMQ intake's connection state, when one is configured (shown by /ready). */
  amqpStatus?: () => AmqpStatus;
  /** Shared with main, which sets `draining` on shutdown. */
  lifecycle?: Lifecycle;
  /** Node process metrics in /metrics (main turns them on; tests leave them off). */
  processMetrics?: boolean;
  /** Released after the store when the app closes (the chain probe's connection). */
  onClose?: () => void | Promise<void>;
}

/** The app and the metrics it reports (for callers that want to read them directly). */
export interface BuiltApp {
  app: FastifyInstance;
  metrics: DaemonMetrics;
}

const VERSION = packageVersion();

/**
 * Builds the adapter's HTTP app: plugins (lifecycle, auth, observability, store with onClose),
 * one route per file, OpenAPI generated from the route schemas. It never listens: main does, and
 * tests use `app.inject()`.
 * @param deps - store, services, verifier, chain probe, logger and HTTP settings
 * @returns the app (not yet ready) and its metrics
 */
export function buildApp(deps: AppDeps): BuiltApp {
  const app = Fastify({
    loggerInstance: deps.logger,
    // One line per request comes from the observability plugin, which knows what not to log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    // Draining is answered by the lifecycle plugin, in the API's own error format.
    return503OnClosing: false,
    ajv: {
      // Strict: every failing path reported, no silent type coercion, unknown fields refused
      // (fastify's defaults would coerce "5" to 5 and drop unknown properties without a word).
      customOptions: {
        allErrors: true,
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: true,
        // uintSchema takes a number or decimal text: type ['integer', 'string'].
        allowUnionTypes: true,
      },
    },
    ...(deps.tls
      ? {
          https: {
            key: deps.tls.key,
            cert: deps.tls.cert,
            ca: deps.tls.ca,
            requestCert: true,
            rejectUnauthorized: true,
          },
        }
      : {}),
  }) as unknown as FastifyInstance;

  const metrics = createMetrics(deps.store, { processMetrics: deps.processMetrics ?? false });
  const context: RouteContext = {
    store: deps.store,
    wallets: deps.wallets,
    activities: deps.activities,
    chainProbe: deps.chainProbe,
    metrics,
    amqpStatus: deps.amqpStatus,
  };

  if (deps.onClose) app.addHook('onClose', async () => deps.onClose!());
  // JSON only: without this, fastify's text/plain parser would take a plain body (then 400); a
  // body in any other media type is 415.
  app.removeContentTypeParser('text/plain');
  const lifecycle = deps.lifecycle ?? { draining: false };
  app.register(storePlugin, { store: deps.store, beforeClose: () => lifecycle.background });
  app.register(lifecyclePlugin, { lifecycle });
  app.register(authPlugin, { verifier: deps.verifier });
  app.register(observabilityPlugin, { metrics });
  app.addSchema(errorBodySchema);
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'peruri-chain adapter',
        version: VERSION,
        description:
          'Maps app users to custodial wallets and mirrors their activities on-chain. Every error is `{ code, message, details }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
  });
  app.register(async (routes) => {
    healthRoute(routes);
    readyRoute(routes, context);
    metricsRoute(routes, context);
    docsRoute(routes);
    walletStatusRoute(routes, context);
    activityTrackRoute(routes, context);
    activityRoute(routes, context);
    mintTokenRoute(routes, context);
  });
  return { app, metrics };
}
