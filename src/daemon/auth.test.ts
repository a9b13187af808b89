import { createSecretKey } from 'node:crypto';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwtVerifier } from './auth.js';
import type { JwtConfig } from './config/types.js';
import { UnauthorizedError } from './http-errors.js';

function aJwtConfig(overrides: Partial<JwtConfig> = {}): JwtConfig {
  return {
    algorithms: ['ES256'],
    publicKeyFile: 'backend.pem',
    audience: 'adapter',
    clockToleranceSeconds: 5,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<UnauthorizedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  return error as UnauthorizedError;
}

describe('JWT verification', () => {
  it.each(['ES256', 'RS256'] as const)(
    'accepts %s tokens signed by the configured public key',
    async (alg) => {
      // Given the backend's key pair and a verifier holding its public key
      const { publicKey, privateKey } = await generateKeyPair(alg);
      const verifier = jwtVerifier(aJwtConfig({ algorithms: [alg], issuer: 'php-app' }), {
        kind: 'public-key',
        pem: await exportSPKI(publicKey),
      });
      const sign = (claims: Record<string, unknown>) =>
        new SignJWT({ sub: 'backend', aud: 'adapter', iss: 'php-app', ...claims })
          .setProtectedHeader({ alg })
          .setExpirationTime('1m')
          .sign(privateKey);
      // When a good token and one from another issuer are checked
      // Then the first gives its subject and the second is refused
      await expect(verifier.verify(`Bearer ${await sign({})}`)).resolves.toEqual({ subject: 'backend' });
      // (the scheme name is case-insensitive, RFC 7235 §2.1)
      await expect(verifier.verify(`bearer ${await sign({ jti: '2' })}`)).resolves.toEqual({
        subject: 'backend',
      });
      const error = await rejection(verifier.verify(`Bearer ${await sign({ iss: 'someone-else' })}`));
      expect(error.message).toBe('The token is from another issuer');
    },
  );

  it('refuses an HS256 token made with the public key as secret (algorithm confusion)', async () => {
    // Given an ES256 verifier whose public key is, well, public
    const { publicKey } = await generateKeyPair('ES256');
    const pem = await exportSPKI(publicKey);
    const verifier = jwtVerifier(aJwtConfig(), { kind: 'public-key', pem });
    // When an attacker signs HS256 with the PEM text as the shared secret
    const forged = await new SignJWT({ sub: 'mallory', aud: 'adapter' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1m')
      .sign(createSecretKey(Buffer.from(pem)));
    // Then it is refused for its algorithm
    const error = await rejection(verifier.verify(`Bearer ${forged}`));
    expect(error.message).toBe('The token is signed with an algorithm this server does not take');
    expect(error.challenge).toBe(
      'Bearer realm="peruri-chain-adapter", error="invalid_token", error_description="The token is signed with an algorithm this server does not take"',
    );
  });

  it('refuses a token without an expiry', async () => {
    const secret = new Uint8Array(32).fill(9);
    const verifier = jwtVerifier(
      aJwtConfig({ algorithms: ['HS256'], publicKeyFile: undefined, secretEnv: 'S' }),
      {
        kind: 'secret',
        secret,
      },
    );
    const eternal = await new SignJWT({ sub: 'backend', aud: 'adapter' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret);
    const error = await rejection(verifier.verify(`Bearer ${eternal}`));
    expect(error.message).toBe("The token's exp claim is missing or not valid");
  });

  it('remembers a verified token but still refuses it once it expires', async () => {
    // Given a verifier without clock tolerance and a token valid for one more second
    const secret = new Uint8Array(32).fill(3);
    const verifier = jwtVerifier(aJwtConfig({ algorithms: ['HS256'], clockToleranceSeconds: 0 }), {
      kind: 'secret',
      secret,
    });
    const exp = Math.floor(Date.now() / 1000) + 1;
    const token = await new SignJWT({ sub: 'backend', aud: 'adapter', exp })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret);
    // When it is used now, and again after it expired
    await expect(verifier.verify(`Bearer ${token}`)).resolves.toEqual({ subject: 'backend' });
    await expect(verifier.verify(`Bearer ${token}`)).resolves.toEqual({ subject: 'backend' });
    await new Promise((resolve) => setTimeout(resolve, (exp - Date.now() / 1000) * 1000 + 50));
    // Then the second use after expiry is refused as expired
    const error = await rejection(verifier.verify(`Bearer ${token}`));
    expect(error.message).toBe('The token has expired');
  });
});
