import { keccak_256 } from '@noble/hashes/sha3.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from './hex.js';
import { keccak256 } from './keccak.js';

describe('keccak256', () => {
  it('is keccak-256, not SHA3-256 (the empty input)', () => {
    expect(toHex(keccak256(new Uint8Array()))).toBe(
      'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    );
  });

  it('agrees with @noble/hashes around the 136-byte block and for a mint-sized input', () => {
    for (const size of [1, 32, 64, 128, 135, 136, 137, 272, 40_001]) {
      const bytes = new Uint8Array(randomBytes(size + 5)).subarray(2, size + 2);
      expect(toHex(keccak256(bytes))).toBe(toHex(keccak_256(bytes)));
    }
  });

  it('answers each call with bytes of its own, untouched by later calls', () => {
    const first = keccak256(Buffer.from('first'));
    const kept = toHex(first);
    keccak256(Buffer.from('second'));
    expect(toHex(first)).toBe(kept);
    expect(first.byteLength).toBe(32);
  });
});
