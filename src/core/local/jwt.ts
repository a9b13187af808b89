import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLocalDir, JWT_SECRET_FILE } from './state.js';

/** The subject of the tokens `up` mints, so that the adapter's audit trail says where they came from. */
export const DEV_TOKEN_SUBJECT = 'peruri-chain-up';
/** Lifetime of a minted token: a working day of trying things out. */
export const DEV_TOKEN_TTL_SECONDS = 12 * 60 * 60;

/**
 * The local stack's HS256 secret: generated once (32 random bytes, base64url) into
 * `.local/jwt-secret` with mode 0600, then reused so that earlier tokens stay valid.
 * @param dir - the workspace
 * @returns the secret as the adapter reads it from its environment variable
 */
export async function ensureJwtSecret(dir: string): Promise<string> {
  const path = join(dir, JWT_SECRET_FILE);
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined && existing.trim().length >= 32) {
    await chmod(path, 0o600);
    return existing.trim();
  }
  await ensureLocalDir(dir);
  const secret = randomBytes(32).toString('base64url');
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return secret;
}

/** Options of {@link mintDevToken}. */
export interface MintDevTokenOptions {
  secret: string;
  audience: string;
  issuer?: string;
  ttlSeconds?: number;
  /** Defaults to now; for tests. */
  now?: Date;
}

/**
 * Mints an HS256 token the local adapter accepts (subject `peruri-chain-up`). It is a credential
 * of the local development stack only.
 * @param options - secret, audience, issuer, lifetime
 * @returns the compact JWT
 * @example
 * const token = await mintDevToken({ secret, audience: 'peruri-local-adapter' });
 */
export async function mintDevToken(options: MintDevTokenOptions): Promise<string> {
  const { SignJWT } = await import('jose');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(DEV_TOKEN_SUBJECT)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? DEV_TOKEN_TTL_SECONDS));
  if (options.issuer) jwt.setIssuer(options.issuer);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
