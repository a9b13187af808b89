import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../core/errors.js';
import type { TrackActivityInput, UintInput } from '../services/activities.js';
import type { RouteContext } from './context.js';
import { acceptedSchema, activityBodySchema, errorResponses, idempotencyHeadersSchema } from './schemas.js';

interface Body {
  userId: string;
  type: string;
  occurredAt: string;
  payload?: Record<string, unknown>;
  points?: UintInput;
  badge?: { id: UintInput; amount?: UintInput };
}

/**
 * `POST /activity/track`: accepts an activity and answers 202 once it is durably stored.
 *
 * A repeated Idempotency-Key with the same body answers 202 again with the same id (and the
 * activity's current status) plus `Idempotent-Replayed: true`: the client sees one success code
 * whether its first attempt or a retry got through, as Stripe and the IETF idempotency-key draft
 * do. The same key with another body is 409.
 */
export function activityTrackRoute(app: FastifyInstance, context: RouteContext): void {
  app.post<{ Body: Body; Headers: { 'idempotency-key': string } }>(
    '/activity/track',
    {
      schema: {
        summary: 'Accept an activity (durable before 202)',
        tags: ['activities'],
        headers: idempotencyHeadersSchema,
        body: activityBodySchema,
        response: { 202: acceptedSchema, ...errorResponses(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      // Named fields rather than a spread of the body: one object shape, cheaper on this hot path.
      const { userId, type, occurredAt, payload, points, badge } = request.body;
      const input: TrackActivityInput = {
        userId,
        type,
        occurredAt,
        payload,
        points,
        badge,
        idempotencyKey: request.headers['idempotency-key'],
        actor: request.actor,
      };
      const { outcome, activity } = await context.activities.track(input).catch((error: unknown) => {
        if ((error as { code?: string }).code === ErrorCodes.IDEMPOTENCY_CONFLICT) {
          context.metrics.intake.inc({ kind: 'activity', outcome: 'conflict' });
        }
        throw error;
      });
      context.metrics.intake.inc({ kind: 'activity', outcome });
      if (outcome === 'replayed') reply.header('idempotent-replayed', 'true');
      return reply.code(202).send({ id: activity.id, status: activity.status });
    },
  );
}
