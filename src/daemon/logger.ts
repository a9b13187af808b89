import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log object. The daemon logs no
 * headers or bodies in the first place (see app.ts); this is the second line of defence.
 */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.body',
  'body',
  'payload',
  'token',
  'password',
  'secret',
  'privateKey',
  'seed',
  '*.authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.privateKey',
  '*.seed',
  '*.payload',
];

/**
 * The daemon's JSON logger.
 * @param options - level, and where to write (default: stderr, so stdout stays for results)
 * @returns a pino logger with redaction and a minimal error serializer
 */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'peruri-chain-adapter' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        // Driver errors carry extra fields (a PostgreSQL error's `detail` quotes row values):
        // keep only what explains the failure.
        err: (error: Error & { code?: unknown }) => ({
          type: error.name,
          message: error.message,
          code: error.code,
          stack: error.stack,
        }),
      },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
