/** JSON Schema pieces shared by the routes; they are the API contract and the OpenAPI document. */

/** `$id` of the error body, registered once on the app and referenced by every route. */
export const ERROR_SCHEMA_ID = 'ErrorBody';

export const errorBodySchema = {
  $id: ERROR_SCHEMA_ID,
  type: 'object',
  description: 'Every error answer: a stable code, a message, and one line per problem.',
  required: ['code', 'message', 'details'],
  properties: {
    code: { type: 'string', description: 'Stable error code, e.g. PC_REQUEST_INVALID.' },
    message: { type: 'string' },
    details: { type: 'array', items: { type: 'string' } },
  },
} as const;

const errorRef = { $ref: `${ERROR_SCHEMA_ID}#` } as const;

/** The error answers a route can give, besides its own. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorRef> {
  return Object.fromEntries([401, 500, ...statuses].map((status) => [status, errorRef]));
}

/**
 * An unsigned integer: a JSON number up to 2^53 - 1, or decimal text up to 78 digits (uint256;
 * the service checks the exact bound). `minimum`/`maximum` apply to the number form only and
 * `pattern` to the text form only, so no anyOf is needed and each failure reads plainly.
 */
export const uintSchema = {
  type: ['integer', 'string'],
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  pattern: '^(0|[1-9][0-9]{0,77})$',
} as const;

/** The app's user id: what the backend calls the user; kept off-chain. */
export const userIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description: "The app's user id (no control characters). Never written on-chain.",
} as const;

/** The Idempotency-Key header every intake request needs. */
export const idempotencyKeySchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^[\\u0021-\\u007e]+$',
  description:
    'A key unique to this request (e.g. a UUID). Repeating it with the same body returns the first answer; with another body, 409.',
} as const;

export const idempotencyHeadersSchema = {
  type: 'object',
  required: ['idempotency-key'],
  properties: { 'idempotency-key': idempotencyKeySchema },
} as const;

/** An activity as `POST /activity/track` and the RabbitMQ intake take it. */
export const activityBodySchema = {
  type: 'object',
  required: ['userId', 'type', 'occurredAt'],
  additionalProperties: false,
  properties: {
    userId: userIdSchema,
    type: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$',
      description: 'What happened, e.g. "login" or "quiz.completed".',
    },
    occurredAt: { type: 'string', format: 'date-time', description: 'RFC 3339 time with a zone.' },
    payload: {
      type: 'object',
      description: 'Any details; stored off-chain only, covered by the salted detail hash.',
    },
    points: { ...uintSchema, description: 'Points to pay for it (default 0).' },
    badge: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      description: 'A badge to award with it.',
      properties: { id: uintSchema, amount: { ...uintSchema, description: 'Default 1.' } },
    },
  },
} as const;

/** The answer to an accepted intake request. */
export const acceptedSchema = {
  type: 'object',
  required: ['id', 'status'],
  properties: {
    id: { type: 'string', description: 'The activity id (UUID v7).' },
    status: { type: 'string', enum: ['queued', 'submitted', 'confirmed', 'failed'] },
  },
} as const;

export const bytes32Schema = { type: 'string', pattern: '^0x[0-9a-f]{64}$' } as const;
