import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_LEAF_ENCODING,
  activityLeafValues,
  type ActivityLeaf,
} from '../../core/contracts/activity-leaf.js';
import { buildActivityTree } from './merkle.js';

const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;

function randomLeaves(count: number): ActivityLeaf[] {
  return Array.from({ length: count }, (_, index) => ({
    activityRef: hex(32),
    wallet: hex(20),
    points: index % 3 === 0 ? 0n : BigInt(`0x${randomBytes(index % 2 ? 2 : 31).toString('hex')}`),
    detailHash: hex(32),
  }));
}

describe('buildActivityTree', () => {
  // OpenZeppelin's StandardMerkleTree is the reference: same root, leaf hashes and proofs.
  it.each([1, 2, 3, 7, 64, 257])('matches StandardMerkleTree for %i leaves', (count) => {
    const leaves = randomLeaves(count);
    const reference = StandardMerkleTree.of(leaves.map(activityLeafValues), [...ACTIVITY_LEAF_ENCODING]);
    const tree = buildActivityTree(leaves);
    expect(tree.root).toBe(reference.root);
    expect(tree.size).toBe(count);
    leaves.forEach((leaf, index) => {
      expect(tree.leafHash(index)).toBe(reference.leafHash(activityLeafValues(leaf)));
      expect(tree.proof(index)).toEqual(reference.getProof(index));
      expect(
        StandardMerkleTree.verify(
          tree.root,
          [...ACTIVITY_LEAF_ENCODING],
          activityLeafValues(leaf),
          tree.proof(index),
        ),
      ).toBe(true);
    });
  });

  it('refuses an empty batch, positions outside it and malformed fields', () => {
    expect(() => buildActivityTree([])).toThrow(/at least one activity/);
    const tree = buildActivityTree(randomLeaves(2));
    expect(() => tree.proof(2)).toThrow(/No leaf at position 2 of a 2-leaf tree/);
    const [leaf] = randomLeaves(1);
    expect(() => buildActivityTree([{ ...leaf!, wallet: hex(32) }])).toThrow(
      /wallet must be 20 bytes, found 32/,
    );
    expect(() => buildActivityTree([{ ...leaf!, points: -1n }])).toThrow(/uint256/);
  });
});
