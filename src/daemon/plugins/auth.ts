import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TokenVerifier } from '../auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JWT subject: who the audit trail names for this request. */
    actor: string;
  }
  interface FastifyContextConfig {
    /** Served without a token (health, metrics). */
    public?: boolean;
  }
}

/**
 * JWT on every route but those marked `config.public`, unknown routes included (an unauthenticated
 * client learns nothing about which routes exist). Runs before the body is read.
 */
export const authPlugin = fp<{ verifier: TokenVerifier }>(
  async (app: FastifyInstance, { verifier }) => {
    app.decorateRequest('actor', '');
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config.public) return;
      const { subject } = await verifier.verify(request.headers.authorization);
      request.actor = subject;
    });
  },
  { name: 'peruri-auth', dependencies: ['peruri-lifecycle'] },
);
