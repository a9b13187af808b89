import type { FastifyInstance } from 'fastify';

/** `GET /health`: liveness. Answers as long as the process serves HTTP; no auth. */
export function healthRoute(app: FastifyInstance): void {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        summary: 'Liveness: the daemon is up',
        tags: ['operations'],
        security: [],
        response: {
          200: {
            type: 'object',
            required: ['status'],
            properties: { status: { type: 'string', enum: ['ok'] } },
          },
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
}
