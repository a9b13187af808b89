import { ErrorCodes, InputError, isPeruriError, type ErrorCode, type ErrorKind } from '../core/errors.js';

/** The JSON body of every error answer. */
export interface ErrorBody {
  code: string;
  message: string;
  details: string[];
}

/** An error answer: status, body and extra headers. */
export interface HttpErrorAnswer {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** A server-side failure: log it with its cause. */
  serverFault: boolean;
}

/** The realm named in WWW-Authenticate challenges. */
export const AUTH_REALM = 'peruri-chain-adapter';

/**
 * A request without a usable bearer token (401). The challenge follows RFC 6750 §3: no error code
 * when no token was sent, `invalid_token` with a description otherwise.
 */
export class UnauthorizedError extends InputError {
  readonly challenge: string;

  constructor(message: string, tokenSent: boolean) {
    super(ErrorCodes.UNAUTHORIZED, message, {
      hint: 'Send `Authorization: Bearer <JWT>` signed with the configured key, for the configured audience.',
    });
    this.challenge = tokenSent
      ? `Bearer realm="${AUTH_REALM}", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`
      : `Bearer realm="${AUTH_REALM}"`;
  }
}

const STATUS_OF_KIND: Record<ErrorKind, number> = {
  input: 400,
  remote: 502,
  refused: 409,
  bug: 500,
  interrupted: 503,
};

// Codes whose HTTP meaning is more precise than their kind's.
const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.BODY_TOO_LARGE]: 413,
  [ErrorCodes.MEDIA_TYPE_UNSUPPORTED]: 415,
  [ErrorCodes.SHUTTING_DOWN]: 503,
  [ErrorCodes.NOT_READY]: 503,
  [ErrorCodes.DATABASE_FAILED]: 503,
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[];
  validationContext?: string;
}

/**
 * Maps anything a request can fail with to its answer: domain errors by code, then by kind
 * (input 400, remote 502, refused 409, bug 500); fastify's own errors (schema validation, JSON
 * syntax, body size, media type) to 400/413/415; anything else to a 500 that reveals nothing.
 * @param error - what was thrown
 * @returns status, body and headers
 */
export function httpErrorOf(error: unknown): HttpErrorAnswer {
  if (isPeruriError(error)) {
    const status = STATUS_OF_CODE[error.code] ?? STATUS_OF_KIND[error.kind];
    const headers: Record<string, string> = {};
    if (error instanceof UnauthorizedError) headers['www-authenticate'] = error.challenge;
    if (status >= 500 && error.kind === 'bug') {
      return { status, body: internal(), headers, serverFault: true };
    }
    return {
      status,
      body: { code: error.code, message: error.message, details: error.details },
      headers,
      // Not being ready or shutting down are states, not faults: no error log for each probe.
      serverFault:
        status >= 500 && error.code !== ErrorCodes.NOT_READY && error.code !== ErrorCodes.SHUTTING_DOWN,
    };
  }
  const fastifyError = (error ?? {}) as FastifyLikeError;
  if (fastifyError.validation) {
    return clientFault(
      400,
      ErrorCodes.REQUEST_INVALID,
      'The request is not valid',
      validationDetails(fastifyError),
    );
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return clientFault(413, ErrorCodes.BODY_TOO_LARGE, 'The request body is larger than this server takes');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return clientFault(415, ErrorCodes.MEDIA_TYPE_UNSUPPORTED, 'Send the body as application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return clientFault(400, ErrorCodes.REQUEST_INVALID, 'The request body is not valid JSON');
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return clientFault(400, ErrorCodes.REQUEST_INVALID, 'The request body is not valid JSON');
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return clientFault(
      status,
      ErrorCodes.REQUEST_INVALID,
      fastifyError.message ?? 'The request is not valid',
    );
  }
  return { status: 500, body: internal(), headers: {}, serverFault: true };
}

function clientFault(
  status: number,
  code: ErrorCode,
  message: string,
  details: string[] = [],
): HttpErrorAnswer {
  return { status, body: { code, message, details }, headers: {}, serverFault: false };
}

function internal(): ErrorBody {
  return { code: ErrorCodes.INTERNAL, message: 'Internal error; it has been logged', details: [] };
}

/** One line per failing path, e.g. `body.points: must be string,integer`. */
function validationDetails(error: FastifyLikeError): string[] {
  const context = error.validationContext ?? 'request';
  const lines = (error.validation ?? []).map((problem) => {
    const path = problem.instancePath
      .split('/')
      .slice(1)
      .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (problem.keyword === 'required') path.push(String(problem.params.missingProperty));
    if (problem.keyword === 'additionalProperties') path.push(String(problem.params.additionalProperty));
    const where = [context, ...path].join('.');
    switch (problem.keyword) {
      case 'required':
        return `${where}: is required`;
      case 'additionalProperties':
        return `${where}: is not allowed`;
      case 'type':
        return `${where}: must be ${String(problem.params.type).split(',').join(' or ')}`;
      default:
        return `${where}: ${problem.message ?? 'is not valid'}`;
    }
  });
  return [...new Set(lines)];
}
