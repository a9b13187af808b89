import { Interface } from 'ethers';
import { loadArtifact } from '../../core/contracts/artifacts.js';
import type { BatchActivity, BatchPart, TransactionDraft } from '../store/mirror-types.js';
import { WordArraysCall } from './calldata.js';
import { batchTree, type ActivityTree } from './merkle.js';

/** Where the worker sends its transactions (from the workspace's deployments.json). */
export interface MirrorContracts {
  pointsToken: string;
  badges: string;
  activityLog: string;
}

/**
 * Gas limits of the worker's calls. Gas is free on this network (price 0), but a block only takes
 * transactions whose limits fit, so limits are kept near the measured cost (bench/RESULTS.md:
 * mintBatch 77,300 for one new recipient then ≈ 28,000 each; badges 104,380 then ≈ 34,000;
 * anchor 71,747 whatever the size), with headroom for the first mint of a badge id.
 */
export const GAS = {
  anchor: 100_000n,
  pointsBase: 60_000n,
  pointsPerEntry: 32_000n,
  badgesBase: 80_000n,
  badgesPerEntry: 40_000n,
} as const;

/** A batch ready to be signed: its id, tree, parts and one draft per part. */
export interface BatchPlan {
  /** bytes32 hex: the batch's id in the database and on-chain. */
  id: string;
  tree: ActivityTree;
  parts: BatchPart[];
  drafts: TransactionDraft[];
}

const artifactInterfaces = new Map<string, Interface>();

function contractInterface(name: 'PointsToken' | 'Badges' | 'ActivityLog'): Interface {
  let contract = artifactInterfaces.get(name);
  if (!contract) {
    contract = new Interface(loadArtifact(name).abi as ConstructorParameters<typeof Interface>[0]);
    artifactInterfaces.set(name, contract);
  }
  return contract;
}

let mintCalls: { points: WordArraysCall; badges: WordArraysCall } | undefined;

/** The two mintBatch encoders, made on first use from the contracts' ABIs. */
function mintBatchCalls(): { points: WordArraysCall; badges: WordArraysCall } {
  mintCalls ??= {
    points: new WordArraysCall(contractInterface('PointsToken'), 'mintBatch'),
    badges: new WordArraysCall(contractInterface('Badges'), 'mintBatch'),
  };
  return mintCalls;
}

/**
 * Cuts a batch into transactions: one anchor of the Merkle root of all its activities, then the
 * points mints and the badge mints, each a mintBatch of at most `maxEntriesPerTx` payments in
 * batch order, every payment carrying its activity's reference.
 * @param batchId - bytes32 hex
 * @param activities - the claimed activities, in batch order
 * @param contracts - the contract addresses
 * @param maxEntriesPerTx - payments per mint transaction
 * @returns the plan
 */
export function planBatch(
  batchId: string,
  activities: readonly BatchActivity[],
  contracts: MirrorContracts,
  maxEntriesPerTx: number,
): BatchPlan {
  const tree = batchTree(activities);
  const parts: BatchPart[] = [{ part: 'anchor', purpose: 'anchor', from: 0, to: activities.length }];
  const drafts: TransactionDraft[] = [
    {
      purpose: 'anchor',
      part: 'anchor',
      batchId,
      to: contracts.activityLog,
      data: contractInterface('ActivityLog').encodeFunctionData('anchor', [
        tree.root,
        activities.length,
        batchId,
      ]),
      gasLimit: GAS.anchor,
    },
  ];
  const paying = activities.filter((activity) => BigInt(activity.points) > 0n);
  chunks(paying.length, maxEntriesPerTx).forEach(([from, to], index) => {
    const slice = paying.slice(from, to);
    parts.push({ part: `points:${index}`, purpose: 'mint-points', from, to });
    drafts.push({
      purpose: 'mint-points',
      part: `points:${index}`,
      batchId,
      to: contracts.pointsToken,
      data: mintBatchCalls().points.encode([
        slice.map((activity) => activity.wallet),
        slice.map((activity) => activity.points),
        slice.map((activity) => activity.activityRef),
      ]),
      gasLimit: GAS.pointsBase + GAS.pointsPerEntry * BigInt(slice.length),
    });
  });
  const badged = activities.filter((activity) => activity.badgeId !== null);
  chunks(badged.length, maxEntriesPerTx).forEach(([from, to], index) => {
    const slice = badged.slice(from, to);
    parts.push({ part: `badges:${index}`, purpose: 'mint-badges', from, to });
    drafts.push({
      purpose: 'mint-badges',
      part: `badges:${index}`,
      batchId,
      to: contracts.badges,
      data: mintBatchCalls().badges.encode([
        slice.map((activity) => activity.wallet),
        slice.map((activity) => activity.badgeId!),
        slice.map((activity) => activity.badgeAmount ?? '1'),
        slice.map((activity) => activity.activityRef),
      ]),
      gasLimit: GAS.badgesBase + GAS.badgesPerEntry * BigInt(slice.length),
    });
  });
  return { id: batchId, tree, parts, drafts };
}

/**
 * The parts of a batch that concern one activity, given its position in batch order: the anchor,
 * and the mint parts whose range holds it.
 * @param parts - the batch's parts
 * @param activities - the batch's activities, in batch order
 * @param position - the activity's position
 * @returns the part names
 */
export function partsOf(
  parts: readonly BatchPart[],
  activities: readonly BatchActivity[],
  position: number,
): string[] {
  const activity = activities[position]!;
  // The activity's position among those that pay points, and among those that give a badge.
  const rank = (pays: (candidate: BatchActivity) => boolean) =>
    pays(activity) ? activities.slice(0, position).filter(pays).length : -1;
  const ranks = {
    anchor: position,
    'mint-points': rank((candidate) => BigInt(candidate.points) > 0n),
    'mint-badges': rank((candidate) => candidate.badgeId !== null),
  };
  return parts
    .filter((part) => ranks[part.purpose] >= part.from && ranks[part.purpose] < part.to)
    .map((part) => part.part);
}

function chunks(length: number, size: number): [number, number][] {
  const result: [number, number][] = [];
  for (let from = 0; from < length; from += size) result.push([from, Math.min(length, from + size)]);
  return result;
}
