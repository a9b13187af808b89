import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Store } from '../store/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

/**
 * Makes the store part of the app's lifecycle: closed in onClose, which fastify runs after the
 * server stopped taking requests and the requests in flight finished, so pending group commits
 * are flushed before the database closes. `beforeClose` lets background work (the mirror worker)
 * finish its write first.
 */
export const storePlugin = fp<{ store: Store; beforeClose?: () => Promise<void> | undefined }>(
  async (app: FastifyInstance, options) => {
    app.decorate('store', options.store);
    app.addHook('onClose', async () => {
      await options.beforeClose?.();
      app.log.info('closing the store');
      await options.store.close();
    });
  },
  { name: 'peruri-store' },
);
