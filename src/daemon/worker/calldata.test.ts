import { randomBytes } from 'node:crypto';
import { Interface, getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { loadArtifact } from '../../core/contracts/artifacts.js';
import { WordArraysCall } from './calldata.js';

const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;
const contract = (name: 'PointsToken' | 'Badges' | 'ActivityLog') =>
  new Interface(loadArtifact(name).abi as ConstructorParameters<typeof Interface>[0]);

/** Addresses checksummed and not, uint256 from 0 to its maximum, random refs. */
function randomColumns(count: number) {
  return {
    wallets: Array.from({ length: count }, (_, i) => (i % 2 ? getAddress(hex(20)) : hex(20))),
    amounts: Array.from({ length: count }, (_, i) =>
      i % 3 === 0 ? '0' : i % 3 === 1 ? String(BigInt(hex(31))) : String((1n << 256n) - 1n),
    ),
    refs: Array.from({ length: count }, () => hex(32)),
  };
}

describe('WordArraysCall', () => {
  // ethers' own encoder is the reference, byte for byte.
  it.each([0, 1, 2, 400])('encodes PointsToken.mintBatch with %i payments as ethers does', (count) => {
    const points = contract('PointsToken');
    const { wallets, amounts, refs } = randomColumns(count);
    expect(new WordArraysCall(points, 'mintBatch').encode([wallets, amounts, refs])).toBe(
      points.encodeFunctionData('mintBatch', [wallets, amounts, refs]),
    );
  });

  it('encodes Badges.mintBatch (four arrays) as ethers does', () => {
    const badges = contract('Badges');
    const { wallets, amounts, refs } = randomColumns(37);
    const ids = amounts.map((_, i) => String(i + 1));
    const args = [wallets, ids, amounts, refs];
    expect(new WordArraysCall(badges, 'mintBatch').encode(args)).toBe(
      badges.encodeFunctionData('mintBatch', args),
    );
  });

  it('refuses a function that takes anything but arrays of one-word values', () => {
    expect(() => new WordArraysCall(contract('ActivityLog'), 'anchor')).toThrow(
      /anchor: parameter \w+ is bytes32, not an array of one-word values/,
    );
    expect(() => new WordArraysCall(contract('PointsToken'), 'burnBatch')).toThrow(/no function burnBatch/);
  });

  it('refuses values their type cannot hold, naming the parameter', () => {
    const call = new WordArraysCall(contract('PointsToken'), 'mintBatch');
    const ref = [hex(32)];
    expect(() => call.encode([['0x1234'], ['1'], ref])).toThrow(/parameter 1: not an address: 0x1234/);
    expect(() => call.encode([[hex(20)], ['-1'], ref])).toThrow(/parameter 2: outside uint256: -1/);
    expect(() => call.encode([[hex(20)], [String(1n << 256n)], ref])).toThrow(/outside uint256/);
    expect(() => call.encode([[hex(20)], ['1.5'], ref])).toThrow(/not an unsigned integer: 1.5/);
    expect(() => call.encode([[hex(20)], ['1'], [hex(31)]])).toThrow(/parameter 3: not 32 bytes of hex/);
    expect(() => call.encode([[hex(20)], ['1']])).toThrow(/takes 3 arrays, got 2/);
  });
});
