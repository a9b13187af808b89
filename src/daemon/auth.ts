import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import { ErrorCodes, InputError } from '../core/errors.js';
import type { DaemonSecrets } from './config/secrets.js';
import type { JwtConfig } from './config/types.js';
import { UnauthorizedError } from './http-errors.js';

/** Checks a bearer token and names who it speaks for. */
export interface TokenVerifier {
  /**
   * @param authorization - the Authorization header, if any
   * @returns the token's subject (the caller, for the audit trail)
   * @throws UnauthorizedError
   */
  verify(authorization: string | undefined): Promise<{ subject: string }>;
}

/**
 * A JWT verifier (jose): the signature with the configured key and algorithms only, `exp` and
 * `nbf` with the configured clock tolerance, `aud` always and `iss` when configured; a token
 * without `exp` or `sub` is refused.
 * @param config - the `auth.jwt` settings
 * @param key - the shared secret (HS256) or public key (ES256, RS256)
 * @returns the verifier
 * @throws InputError (PC_KEY_INVALID) when the public key is not a PEM key
 */
export function jwtVerifier(config: JwtConfig, key: DaemonSecrets['jwtKey']): TokenVerifier {
  let keyObject: KeyObject;
  if (key.kind === 'secret') {
    keyObject = createSecretKey(key.secret);
  } else {
    try {
      keyObject = createPublicKey(key.pem);
    } catch (cause) {
      throw new InputError(ErrorCodes.KEY_INVALID, `${config.publicKeyFile}: not a PEM public key`, {
        cause,
      });
    }
  }
  const options = {
    algorithms: config.algorithms,
    audience: config.audience,
    ...(config.issuer ? { issuer: config.issuer } : {}),
    clockTolerance: config.clockToleranceSeconds,
    requiredClaims: ['exp', 'sub'],
  };
  // A backend reuses one token for many requests, and a signature check costs ~0.1 ms of CPU
  // (WebCrypto): tokens that verified are remembered, and a hit re-checks only the time claims,
  // the one part of the outcome that changes. Failures are never remembered.
  const verified = new Map<string, { subject: string; exp: number; nbf: number | undefined }>();
  return {
    async verify(authorization) {
      const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i.exec(authorization?.trim() ?? '');
      if (!authorization) throw new UnauthorizedError('A bearer token is required', false);
      if (!match) throw new UnauthorizedError('The Authorization header is not "Bearer <token>"', true);
      const token = match[1]!;
      const known = verified.get(token);
      if (known) {
        const now = Date.now() / 1000;
        if (now >= known.exp + config.clockToleranceSeconds) {
          verified.delete(token);
          throw new UnauthorizedError('The token has expired', true);
        }
        if (known.nbf !== undefined && now < known.nbf - config.clockToleranceSeconds) {
          throw new UnauthorizedError('The token is not valid yet', true);
        }
        return { subject: known.subject };
      }
      try {
        const { payload } = await jwtVerify(token, keyObject, options);
        if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
        verified.set(token, { subject: payload.sub!, exp: payload.exp!, nbf: payload.nbf });
        return { subject: payload.sub! };
      } catch (error) {
        throw new UnauthorizedError(reasonOf(error), true);
      }
    },
  };
}

/** How many verified tokens are remembered (the oldest is forgotten first). */
const VERIFIED_TOKENS_KEPT = 10_000;

// Short reasons for the client; the token itself is never echoed or logged.
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return 'The token is for another audience';
      case 'iss':
        return 'The token is from another issuer';
      case 'nbf':
        return 'The token is not valid yet';
      default:
        return `The token's ${error.claim} claim is missing or not valid`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'The token is signed with an algorithm this server does not take';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token signature does not verify';
  return 'The token is not a valid JWT';
}
