import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { DEV_TOKEN_SUBJECT, ensureJwtSecret, mintDevToken } from './jwt.js';

describe('the local stack JWT', () => {
  it('generates a private secret once and keeps it', async () => {
    // Given a workspace
    const dir = await aTempDir();

    // When the secret is asked for twice
    const first = await ensureJwtSecret(dir);
    const second = await ensureJwtSecret(dir);

    // Then it is long enough for HS256, 0600, and the same both times
    expect(new TextEncoder().encode(first).length).toBeGreaterThanOrEqual(32);
    expect(second).toBe(first);
    const file = join(dir, '.local/jwt-secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first);
  });

  it('mints an HS256 token with the audience, issuer, subject and a 12-hour expiry', async () => {
    // Given a secret and a time
    const secret = 'a-secret-of-at-least-thirty-two-bytes-long';
    const now = new Date('2026-11-24T10:00:00Z');

    // When a token is minted
    const token = await mintDevToken({ secret, audience: 'peruri-local-adapter', issuer: 'backend', now });

    // Then the adapter's checks accept it
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), {
      audience: 'peruri-local-adapter',
      issuer: 'backend',
      currentDate: now,
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe(DEV_TOKEN_SUBJECT);
    expect(payload.exp! - payload.iat!).toBe(12 * 60 * 60);
  });
});
