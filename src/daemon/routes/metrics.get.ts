import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

/**
 * `GET /metrics`: Prometheus text format. Without JWT: Prometheus and `peruri-chain status` scrape
 * it with no token, and it holds counts and latencies only (no user, no key, no payload). Keep
 * the port on a private network, or configure mTLS, which covers this route too.
 */
export function metricsRoute(app: FastifyInstance, context: RouteContext): void {
  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: {
        summary: 'Prometheus metrics (text format)',
        tags: ['operations'],
        security: [],
      },
    },
    async (_request, reply) => {
      const { registry } = context.metrics;
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    },
  );
}
