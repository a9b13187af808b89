import type { FastifyInstance } from 'fastify';
import { ErrorCodes, RemoteError } from '../../core/errors.js';
import type { RouteContext } from './context.js';
import { errorResponses } from './schemas.js';

const checkSchema = {
  type: 'object',
  required: ['ok'],
  properties: {
    ok: { type: 'boolean' },
    chainId: { type: 'integer' },
    blockNumber: { type: 'integer' },
  },
} as const;

/**
 * `GET /ready`: readiness. 200 when the database answers and the chain is reachable and right.
 * A configured RabbitMQ intake is reported but does not decide readiness: HTTP intake works
 * without the broker, and the intake reconnects on its own.
 */
export function readyRoute(app: FastifyInstance, context: RouteContext): void {
  app.get(
    '/ready',
    {
      schema: {
        summary: 'Readiness: database and chain reachable',
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            required: ['status', 'database', 'chain'],
            properties: {
              status: { type: 'string', enum: ['ready'] },
              database: checkSchema,
              chain: checkSchema,
              amqp: {
                type: 'object',
                required: ['ok', 'queue'],
                properties: { ok: { type: 'boolean' }, queue: { type: 'string' }, error: { type: 'string' } },
              },
            },
          },
          ...errorResponses(503),
        },
      },
    },
    async () => {
      const [database, chain] = await Promise.all([
        context.store.ping().then(
          () => ({ ok: true }),
          (error: unknown) => ({ ok: false, error: (error as Error).message }),
        ),
        context.chainProbe(),
      ]);
      if (!database.ok || !chain.ok) {
        const details = [
          ...(database.ok ? [] : [`database: ${(database as { error: string }).error}`]),
          ...(chain.ok ? [] : [`chain: ${chain.error ?? 'not reachable'}`]),
        ];
        throw new RemoteError(ErrorCodes.NOT_READY, 'Not ready', { details });
      }
      return {
        status: 'ready' as const,
        database: { ok: true },
        chain: { ok: true, chainId: chain.chainId, blockNumber: chain.blockNumber },
        ...(context.amqpStatus ? { amqp: context.amqpStatus() } : {}),
      };
    },
  );
}
