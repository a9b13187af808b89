import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';
import { errorResponses, userIdSchema } from './schemas.js';

interface Querystring {
  userId: string;
}

/** `GET /wallet/status?userId=`: the user's wallet, created on first sight. */
export function walletStatusRoute(app: FastifyInstance, context: RouteContext): void {
  app.get<{ Querystring: Querystring }>(
    '/wallet/status',
    {
      schema: {
        summary: "A user's wallet: address, DID, custody, balance and badges (created on first sight)",
        tags: ['wallets'],
        querystring: {
          type: 'object',
          required: ['userId'],
          additionalProperties: false,
          properties: { userId: userIdSchema },
        },
        response: {
          200: {
            type: 'object',
            required: ['userId', 'address', 'did', 'custody', 'balance', 'badges', 'created'],
            properties: {
              userId: { type: 'string' },
              address: { type: 'string', pattern: '^0x[0-9a-f]{40}$' },
              did: { type: 'string', description: 'did:peruri:<address>; no personal data.' },
              custody: { type: 'string', enum: ['custodial', 'self'] },
              balance: {
                type: 'string',
                description: 'Points in the smallest unit, decimal text (from the chain event cache).',
              },
              badges: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'amount'],
                  properties: { id: { type: 'string' }, amount: { type: 'string' } },
                },
              },
              created: { type: 'boolean', description: 'True when this request created the wallet.' },
            },
          },
          ...errorResponses(400),
        },
      },
    },
    async (request) => context.wallets.status(request.query.userId, request.actor),
  );
}
