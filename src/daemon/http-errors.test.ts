import { describe, expect, it } from 'vitest';
import { BugError, ErrorCodes, InputError, RefusedError, RemoteError } from '../core/errors.js';
import { httpErrorOf } from './http-errors.js';

describe('mapping errors to HTTP answers', () => {
  it.each([
    ['an input error', new InputError(ErrorCodes.REQUEST_INVALID, 'bad', { details: ['a: b'] }), 400],
    ['a remote error', new RemoteError(ErrorCodes.REMOTE_FAILED, 'rpc down'), 502],
    ['a refusal', new RefusedError(ErrorCodes.IDEMPOTENCY_CONFLICT, 'used'), 409],
    ['a missing record', new InputError(ErrorCodes.NOT_FOUND, 'no such'), 404],
    ['a database outage', new RemoteError(ErrorCodes.DATABASE_FAILED, 'down'), 503],
  ])('%s keeps its code and message', (_name, error, status) => {
    const answer = httpErrorOf(error);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ code: error.code, message: error.message, details: error.details });
  });

  it('hides the message of a bug and of anything unknown', () => {
    for (const error of [
      new BugError('index 7 out of range in secretThing'),
      new TypeError('x is undefined'),
    ]) {
      const answer = httpErrorOf(error);
      expect(answer).toMatchObject({ status: 500, serverFault: true });
      expect(answer.body).toEqual({
        code: 'PC_INTERNAL',
        message: 'Internal error; it has been logged',
        details: [],
      });
    }
  });

  it("lists each failing path of fastify's validation error", () => {
    const answer = httpErrorOf({
      validationContext: 'body',
      validation: [
        { instancePath: '', keyword: 'required', params: { missingProperty: 'userId' } },
        { instancePath: '/badge/id', keyword: 'type', params: { type: 'integer,string' }, message: 'x' },
        { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'colour' } },
      ],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.details).toEqual([
      'body.userId: is required',
      'body.badge.id: must be integer or string',
      'body.colour: is not allowed',
    ]);
  });
});
