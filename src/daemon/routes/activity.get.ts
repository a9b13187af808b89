import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';
import { bytes32Schema, errorResponses } from './schemas.js';

const nullable = <T extends object>(schema: T) => ({ anyOf: [schema, { type: 'null' }] });

/** `GET /activity/:id`: an activity's (or mint's) status, transactions, batch root and proof. */
export function activityRoute(app: FastifyInstance, context: RouteContext): void {
  app.get<{ Params: { id: string } }>(
    '/activity/:id',
    {
      schema: {
        summary: "An activity's status and on-chain evidence",
        tags: ['activities'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: {
          200: {
            type: 'object',
            required: [
              'id',
              'kind',
              'status',
              'txHashes',
              'blockNumber',
              'merkleRoot',
              'leaf',
              'proof',
              'activityRef',
              'detailHash',
            ],
            properties: {
              id: { type: 'string' },
              kind: { type: 'string', enum: ['activity', 'mint'] },
              status: { type: 'string', enum: ['queued', 'submitted', 'confirmed', 'failed'] },
              txHashes: { type: 'array', items: bytes32Schema },
              blockNumber: { type: ['integer', 'null'] },
              merkleRoot: nullable(bytes32Schema),
              leaf: { ...nullable(bytes32Schema), description: 'The leaf hash in its batch tree.' },
              proof: nullable({ type: 'array', items: bytes32Schema }),
              activityRef: { ...bytes32Schema, description: 'Salted reference used on-chain.' },
              detailHash: { ...bytes32Schema, description: 'Salted hash of the details.' },
              reason: { type: 'string', description: 'Why it failed (status failed only).' },
            },
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => {
      const activity = await context.activities.get(request.params.id);
      return {
        id: activity.id,
        kind: activity.kind,
        status: activity.status,
        txHashes: activity.txHashes,
        blockNumber: activity.blockNumber,
        merkleRoot: activity.merkleRoot,
        leaf: activity.leafHash,
        proof: activity.proof,
        activityRef: activity.activityRef,
        detailHash: activity.detailHash,
        ...(activity.reason !== null ? { reason: activity.reason } : {}),
      };
    },
  );
}
