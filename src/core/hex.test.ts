import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, writeHex } from './hex.js';

describe('hex', () => {
  it('agrees with @noble/hashes both ways, for views into larger buffers too', () => {
    for (const size of [0, 1, 20, 32, 40_001]) {
      const bytes = new Uint8Array(randomBytes(size + 8)).subarray(3, size + 3);
      expect(toHex(bytes)).toBe(bytesToHex(bytes));
      expect(fromHex(`0x${bytesToHex(bytes)}`)).toEqual(Buffer.from(bytes));
      expect(fromHex(bytesToHex(bytes).toUpperCase())).toEqual(Buffer.from(hexToBytes(bytesToHex(bytes))));
    }
  });

  it('refuses what the native codec would cut short without a word', () => {
    expect(() => fromHex('0xabc', 'data')).toThrow('data is not an even number of hex digits');
    expect(() => fromHex('0xzz')).toThrow('value is not an even number of hex digits');
    expect(() => fromHex('ab cd')).toThrow(/not an even number/);
    expect(() => fromHex('0x0x00')).toThrow(/not an even number/);
  });

  it('writes into a buffer at an offset, exactly the length asked', () => {
    const target = Buffer.alloc(8);
    writeHex(target, '0xa1b2c3', 4, 3, 'tail');
    expect(target.toString('hex')).toBe('00000000a1b2c300');
    expect(() => writeHex(target, 'a1b2', 0, 3, 'tail')).toThrow('tail must be 3 bytes, found 2');
    expect(() => writeHex(target, 'a1b2g3', 0, 3, 'tail')).toThrow(
      'tail is not an even number of hex digits',
    );
  });
});
