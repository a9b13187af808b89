import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../core/errors.js';
import type { UintInput } from '../services/activities.js';
import type { RouteContext } from './context.js';
import {
  acceptedSchema,
  errorResponses,
  idempotencyHeadersSchema,
  uintSchema,
  userIdSchema,
} from './schemas.js';

interface Body {
  userId: string;
  amount: UintInput;
  reason: string;
}

/**
 * `POST /mintToken`: accepts a points mint (stored as an activity of kind `mint`) and answers 202
 * once stored, with `txHash` null until the worker has sent it (then GET /activity/:id or a replay
 * of this request shows it). Replays behave as for /activity/track.
 */
export function mintTokenRoute(app: FastifyInstance, context: RouteContext): void {
  app.post<{ Body: Body; Headers: { 'idempotency-key': string } }>(
    '/mintToken',
    {
      schema: {
        summary: 'Mint points to a user (durable before 202)',
        tags: ['activities'],
        headers: idempotencyHeadersSchema,
        body: {
          type: 'object',
          required: ['userId', 'amount', 'reason'],
          additionalProperties: false,
          properties: {
            userId: userIdSchema,
            amount: { ...uintSchema, description: 'Points in the smallest unit, at least 1.' },
            reason: {
              type: 'string',
              minLength: 1,
              maxLength: 500,
              description: 'Why; kept off-chain, covered by the detail hash.',
            },
          },
        },
        response: {
          202: {
            ...acceptedSchema,
            required: ['id', 'status', 'txHash'],
            properties: {
              ...acceptedSchema.properties,
              txHash: { type: ['string', 'null'], description: 'The mint transaction, once sent.' },
            },
          },
          ...errorResponses(400, 409, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const { outcome, activity: accepted } = await context.activities
        .mint({
          ...request.body,
          idempotencyKey: request.headers['idempotency-key'],
          actor: request.actor,
        })
        .catch((error: unknown) => {
          if ((error as { code?: string }).code === ErrorCodes.IDEMPOTENCY_CONFLICT) {
            context.metrics.intake.inc({ kind: 'mint', outcome: 'conflict' });
          }
          throw error;
        });
      context.metrics.intake.inc({ kind: 'mint', outcome });
      if (outcome === 'replayed') reply.header('idempotent-replayed', 'true');
      // A replay may come after the mint was sent: its evidence is [anchor, points mint].
      const activity = outcome === 'replayed' ? await context.activities.withEvidence(accepted) : accepted;
      return reply
        .code(202)
        .send({ id: activity.id, status: activity.status, txHash: activity.txHashes[1] ?? null });
    },
  );
}
