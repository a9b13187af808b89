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

const REDACTION_CENSOR = '[redacted]';

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
      redact: { paths: REDACTED_PATHS, censor: REDACTION_CENSOR },
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

/**
 * The logger of the one line per request (observability plugin), the only line written at request
 * rate. The plugin builds its object from five fields of its own (method, route, path, status,
 * time) and the request id, so the paths that name a field at any depth (`*.token`) cannot match
 * in it, and those are what made the redaction expensive: @pinojs/redact 0.4 parses each wildcard
 * path again on every call. A line cost 16.9 µs with them and 3.5 µs with the top-level paths alone
 * on the 2-core machine, ≈ 3 % of intake's CPU. The top-level paths stay, the second line of
 * defence for this line.
 * @param root - the daemon's logger (its destination and level)
 * @returns a child that writes to the same destination
 */
export function createAccessLogger(root: Logger): Logger {
  return root.child(
    {},
    { redact: { paths: REDACTED_PATHS.filter((path) => !path.includes('*')), censor: REDACTION_CENSOR } },
  );
}
