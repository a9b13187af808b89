import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { ErrorCodes } from '../../core/errors.js';
import { httpErrorOf } from '../http-errors.js';
import { createAccessLogger } from '../logger.js';
import type { DaemonMetrics } from '../metrics.js';

/**
 * Error answers, the not-found answer, one log line per request and the latency histogram.
 *
 * Logged per request: method, route pattern, path without query string, status and time. Never
 * headers, the query string (it holds user ids), bodies or tokens.
 */
export const observabilityPlugin = fp<{ metrics: DaemonMetrics }>(
  async (app: FastifyInstance, { metrics }) => {
    app.setErrorHandler(async (error, request, reply) => {
      const answer = httpErrorOf(error);
      if (answer.serverFault) {
        request.log.error({ err: error, code: answer.body.code }, 'request failed');
      } else {
        request.log.info({ code: answer.body.code, status: answer.status }, 'request refused');
      }
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    });

    app.setNotFoundHandler(async (request, reply) =>
      reply.code(404).send({
        code: ErrorCodes.NOT_FOUND,
        message: `No route ${request.method} ${request.url.split('?')[0]}`,
        details: [],
      }),
    );

    const accessLog = createAccessLogger(app.log as Logger);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unknown';
      const seconds = reply.elapsedTime / 1000;
      metrics.requestDuration.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        seconds,
      );
      accessLog.info(
        {
          reqId: request.id,
          method: request.method,
          route,
          path: request.url.split('?')[0],
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request completed',
      );
    });
  },
  { name: 'peruri-observability' },
);
