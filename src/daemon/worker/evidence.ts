import type { BatchPart, MirrorStore, OutboxTransaction } from '../store/mirror-types.js';
import type { ActivityRecord } from '../store/types.js';
import { batchTree, type ActivityTree } from './merkle.js';
import { partsOf } from './plan.js';

/** An activity's on-chain evidence: its leaf and proof in its batch tree and its transactions. */
export interface ActivityEvidence {
  merkleRoot: string | null;
  leaf: string | null;
  proof: string[] | null;
  /** The anchor and the mint transactions that carry it (the mined ones once mined). */
  txHashes: string[];
}

interface BatchView {
  activities: ActivityRecord[];
  positions: Map<string, number>;
  tree: ActivityTree;
  parts: BatchPart[];
}

const NO_EVIDENCE: ActivityEvidence = { merkleRoot: null, leaf: null, proof: null, txHashes: [] };

/**
 * Derives evidence from a batch's activities (their order is the batch order) instead of storing
 * a proof per activity: a batch is immutable once submitted, so its tree is rebuilt once and kept
 * in a small cache of recent batches.
 */
export class EvidenceReader {
  private readonly cache = new Map<string, Promise<BatchView | undefined>>();

  constructor(
    private readonly store: MirrorStore,
    private readonly cacheSize = 8,
  ) {}

  /**
   * @param activity - a stored activity
   * @returns its evidence; empty while it waits for a batch
   */
  async of(activity: ActivityRecord): Promise<ActivityEvidence> {
    if (!activity.batchId) return NO_EVIDENCE;
    const [view, transactions] = await Promise.all([
      this.view(activity.batchId),
      this.store.batchTransactions(activity.batchId),
    ]);
    const position = view?.positions.get(activity.id);
    if (!view || position === undefined) return NO_EVIDENCE;
    const txHashes = partsOf(view.parts, view.activities, position)
      .map((part) => currentTransaction(transactions, part)?.txHash)
      .filter((hash): hash is string => hash !== undefined);
    return {
      merkleRoot: view.tree.root,
      leaf: view.tree.leafHash(position),
      proof: view.tree.proof(position),
      txHashes,
    };
  }

  private view(batchId: string): Promise<BatchView | undefined> {
    let view = this.cache.get(batchId);
    if (view) {
      // Most recently used last.
      this.cache.delete(batchId);
      this.cache.set(batchId, view);
      return view;
    }
    view = this.load(batchId);
    view.catch(() => this.cache.delete(batchId));
    this.cache.set(batchId, view);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return view;
  }

  private async load(batchId: string): Promise<BatchView | undefined> {
    const [batch, activities] = await Promise.all([
      this.store.getBatch(batchId),
      this.store.batchActivities(batchId),
    ]);
    if (!batch || activities.length === 0) return undefined;
    const tree = batchTree(activities);
    return {
      activities,
      positions: new Map(activities.map((activity, index) => [activity.id, index])),
      tree,
      parts: batch.parts,
    };
  }
}

/**
 * The transaction that stands for a part: the mined one if any, otherwise the latest attempt.
 * @param transactions - a batch's transactions in nonce order
 * @param part - the part's name
 */
export function currentTransaction(
  transactions: readonly OutboxTransaction[],
  part: string,
): OutboxTransaction | undefined {
  const attempts = transactions.filter((transaction) => transaction.part === part);
  return attempts.find((transaction) => transaction.status === 'mined') ?? attempts[attempts.length - 1];
}
