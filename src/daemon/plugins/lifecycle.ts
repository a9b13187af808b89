import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorCodes, RefusedError } from '../../core/errors.js';

/** Shared with main: set `draining` when shutdown starts. */
export interface Lifecycle {
  draining: boolean;
  /** Work outside requests (the mirror worker) that must end before the store closes. */
  background?: Promise<void>;
}

/**
 * While draining, every new request is answered 503 (PC_SHUTTING_DOWN) and every answer, including
 * those of requests already in flight, carries `Connection: close`, so keep-alive clients leave
 * and the server can close.
 */
export const lifecyclePlugin = fp<{ lifecycle: Lifecycle }>(
  async (app: FastifyInstance, { lifecycle }) => {
    app.addHook('onRequest', async () => {
      if (lifecycle.draining) {
        throw new RefusedError(ErrorCodes.SHUTTING_DOWN, 'The adapter is shutting down', {
          hint: 'Retry against another instance or after the restart.',
        });
      }
    });
    app.addHook('onSend', async (_request, reply) => {
      if (lifecycle.draining) reply.header('connection', 'close');
    });
  },
  { name: 'peruri-lifecycle' },
);
