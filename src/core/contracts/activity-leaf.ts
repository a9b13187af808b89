/**
 * The ABI types of one activity leaf in an ActivityLog Merkle tree (OpenZeppelin
 * StandardMerkleTree): `[activityRef, wallet, points, detailHash]`. None of them is personal data:
 * `activityRef` and `detailHash` are salted hashes made by the adapter, `wallet` is the user's
 * custodial address, which is on-chain anyway.
 */
export const ACTIVITY_LEAF_ENCODING = ['bytes32', 'address', 'uint256', 'bytes32'] as const;

/** One activity as it enters a batch's Merkle tree. */
export interface ActivityLeaf {
  /** Salted hash identifying the activity; the same value is the `ref` of its mint events. */
  activityRef: string;
  /** The wallet the activity belongs to. */
  wallet: string;
  /** Points paid for it (0 when none). */
  points: bigint;
  /** Salted hash of the activity's type, time and payload, so the backend can prove its details. */
  detailHash: string;
}

/**
 * The values of a leaf in {@link ACTIVITY_LEAF_ENCODING} order, ready for StandardMerkleTree.
 * @param leaf - the activity
 * @returns the tuple to put in the tree
 * @example
 * const tree = StandardMerkleTree.of(leaves.map(activityLeafValues), [...ACTIVITY_LEAF_ENCODING]);
 */
export function activityLeafValues(leaf: ActivityLeaf): [string, string, bigint, string] {
  return [leaf.activityRef, leaf.wallet, leaf.points, leaf.detailHash];
}
