import { describe, expect, it } from 'vitest';
import { activityHasherFromSeed } from './refs.js';

// Expected values computed independently with `openssl dgst -sha256 -mac HMAC`: these hashes go
// on-chain, so they must never change between versions.
const SEED = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const ID = '01a20dde-7b40-74be-9fd9-fb42c87cdf38';

describe('salted activity hashes', () => {
  it('derive activityRef and detailHash from the seed as documented (HMAC-SHA256 vectors)', () => {
    // Given the hasher of a known seed
    const hasher = activityHasherFromSeed(SEED);
    // Then the reference and the detail hash (keys given out of order) match openssl's
    expect(hasher.activityRef(ID)).toBe('0x37d091d74ca39300109d70d5ba6d6da32157779aa75ff647bb983b8e2fa612a9');
    expect(
      hasher.detailHash({
        userId: 'user-42',
        type: 'login',
        points: '25',
        payload: { b: [true, null], a: 1 },
        occurredAt: '2026-11-24T03:15:00.000Z',
        kind: 'activity',
        id: ID,
        badge: null,
      }),
    ).toBe('0x223f48853271c11d8f2a2ad108e09155d9110d6cf191f4c9a2f42023c01b6b0b');
  });

  it('differ between deployments and never contain the user id', () => {
    const other = activityHasherFromSeed(Buffer.alloc(32, 7));
    const mine = activityHasherFromSeed(SEED);
    expect(other.activityRef(ID)).not.toBe(mine.activityRef(ID));
    expect(mine.activityRef('user-42')).not.toContain(Buffer.from('user-42').toString('hex'));
  });
});
