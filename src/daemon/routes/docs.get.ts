import type { FastifyInstance } from 'fastify';

/** `GET /docs`: the OpenAPI 3.1 document, generated from the routes' schemas. */
export function docsRoute(app: FastifyInstance): void {
  app.get('/docs', { schema: { hide: true } }, async () => app.swagger());
}
