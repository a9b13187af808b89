import type { ActivityLeaf } from '../../core/contracts/activity-leaf.js';
import { toHex, writeHex } from '../../core/hex.js';
import { keccak256 } from '../../core/keccak.js';

/**
 * An activity batch's Merkle tree in OpenZeppelin's StandardMerkleTree format (leaf =
 * keccak256(keccak256(abi.encode(activityRef, wallet, points, detailHash))), leaves sorted, pairs
 * hashed in sorted order, the tree laid out as one array), so `ActivityLog.verify` and OZ's
 * `MerkleProof` accept its proofs.
 *
 * Why not `StandardMerkleTree.of` itself: measured on the 2-core machine, it spends about 100 µs per
 * leaf (its ABI coder builds an Error object per value checked), 1 s or more for a 10,000-activity
 * batch, which alone would cap the mirror below its 5,000 activities/s. Every leaf here has the
 * same four static 32-byte words, so encoding is a copy; the tests hold this tree to OZ's output
 * (root and every proof) for random batches.
 */
export interface ActivityTree {
  /** 0x-hex root, as anchored on-chain. */
  root: string;
  /** Number of leaves. */
  size: number;
  /** The leaf hash of the activity at input position `index`. */
  leafHash(index: number): string;
  /** The proof of the activity at input position `index`, bottom-up, as OZ's `getProof`. */
  proof(index: number): string[];
}

const WORD = 32;

/**
 * The tree of a batch's activities as the store holds them (points as decimal text): what the
 * worker anchors and what the evidence of an activity is read from.
 * @param activities - in batch order
 */
export function batchTree(
  activities: readonly { activityRef: string; wallet: string; points: string; detailHash: string }[],
): ActivityTree {
  return buildActivityTree(
    activities.map((activity) => ({
      activityRef: activity.activityRef,
      wallet: activity.wallet,
      points: BigInt(activity.points),
      detailHash: activity.detailHash,
    })),
  );
}

/**
 * Builds the tree of a batch's activities.
 * @param leaves - the activities in batch order (their positions are the input positions)
 * @returns the tree
 * @throws Error for an empty batch (a Merkle tree needs a leaf)
 */
export function buildActivityTree(leaves: readonly ActivityLeaf[]): ActivityTree {
  if (leaves.length === 0) throw new Error('A batch tree needs at least one activity');
  const hashes = leaves.map(hashLeaf);
  // OZ sorts the leaf hashes and puts them, in reverse order, at the end of the array.
  const order = hashes.map((_, index) => index).sort((a, b) => compareBytes(hashes[a]!, hashes[b]!));
  const nodeCount = 2 * hashes.length - 1;
  const tree = new Array<Uint8Array>(nodeCount);
  const treeIndexOf = new Int32Array(hashes.length);
  order.forEach((inputIndex, sortedPosition) => {
    const treeIndex = nodeCount - 1 - sortedPosition;
    tree[treeIndex] = hashes[inputIndex]!;
    treeIndexOf[inputIndex] = treeIndex;
  });
  for (let index = nodeCount - 1 - hashes.length; index >= 0; index--) {
    tree[index] = hashPair(tree[2 * index + 1]!, tree[2 * index + 2]!);
  }
  return {
    root: hex(tree[0]!),
    size: hashes.length,
    leafHash: (index) => hex(hashes[checkedIndex(index, hashes.length)]!),
    proof: (index) => {
      const proof: string[] = [];
      for (let node = treeIndexOf[checkedIndex(index, hashes.length)]!; node > 0; node = (node - 1) >> 1) {
        proof.push(hex(tree[node % 2 === 1 ? node + 1 : node - 1]!));
      }
      return proof;
    },
  };
}

/**
 * The leaf hash of one activity, as StandardMerkleTree computes it for the leaf encoding
 * `[bytes32, address, uint256, bytes32]`.
 * @param leaf - the activity
 * @returns 32 bytes
 */
export function hashLeaf(leaf: ActivityLeaf): Uint8Array {
  const encoded = Buffer.alloc(4 * WORD);
  writeHex(encoded, leaf.activityRef, 0, WORD, 'activityRef');
  // An address is right-aligned in its word; the 12 bytes before it stay zero.
  writeHex(encoded, leaf.wallet, WORD + 12, 20, 'wallet');
  writeHex(encoded, uintWord(leaf.points), 2 * WORD, WORD, 'points');
  writeHex(encoded, leaf.detailHash, 3 * WORD, WORD, 'detailHash');
  return keccak256(keccak256(encoded));
}

function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  const pair = new Uint8Array(2 * WORD);
  const [first, second] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  pair.set(first, 0);
  pair.set(second, WORD);
  return keccak256(pair);
}

function uintWord(value: bigint): string {
  if (value < 0n || value >= 1n << 256n) throw new Error('points must fit uint256');
  return value.toString(16).padStart(2 * WORD, '0');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return 0;
}

function checkedIndex(index: number, size: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`No leaf at position ${index} of a ${size}-leaf tree`);
  }
  return index;
}

function hex(bytes: Uint8Array): string {
  return `0x${toHex(bytes)}`;
}
