import { createHmac } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';

/** The activity fields a detail hash covers. */
export interface ActivityDetails {
  id: string;
  kind: string;
  userId: string;
  type: string;
  occurredAt: string;
  payload: Record<string, unknown> | null;
  points: string;
  badge: { id: string; amount: string } | null;
}

/** Makes the salted hashes that stand for an activity on-chain. */
export interface ActivityHasher {
  /** bytes32 hex naming the activity on-chain (leaf field and mint event `ref`). */
  activityRef(activityId: string): string;
  /** bytes32 hex committing to the activity's details (leaf field). */
  detailHash(details: ActivityDetails): string;
}

/**
 * The activity hasher of a deployment. Two 32-byte keys are derived from the wallet master seed
 * with HMAC-SHA256 under fixed labels (so the salt is per deployment, needs no storage of its own,
 * and is recovered with the seed); then
 *   activityRef = HMAC-SHA256(refKey, activity id)
 *   detailHash  = HMAC-SHA256(detailKey, canonical JSON of the details)
 * A keyed MAC rather than keccak(salt ‖ data): with the key secret, nobody can test a guess
 * ("did user 42 log in at 10:00?") against what is on-chain, and HMAC has no length-extension or
 * concatenation ambiguity. Only the salted outputs reach the chain; whoever holds the seed can
 * recompute them to prove an activity's details, and verification on-chain needs only the Merkle
 * proof of the leaf, not the hash function.
 * @param seed - the wallet master seed
 * @returns the hasher
 */
export function activityHasherFromSeed(seed: Uint8Array): ActivityHasher {
  const refKey = hmac(seed, 'peruri-chain/v1/activity-ref');
  const detailKey = hmac(seed, 'peruri-chain/v1/detail-hash');
  return {
    activityRef: (activityId) => `0x${hmac(refKey, activityId).toString('hex')}`,
    detailHash: (details) => `0x${hmac(detailKey, canonicalJson(details)).toString('hex')}`,
  };
}

function hmac(key: Uint8Array, message: string): Buffer {
  return createHmac('sha256', key).update(message, 'utf8').digest();
}
