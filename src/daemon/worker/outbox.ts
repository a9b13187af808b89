import { Transaction } from 'ethers';
import type { Logger } from 'pino';
import type { SignedTransaction, Signer } from '../services/signer.js';
import type {
  MirrorStore,
  OutboxTransaction,
  SignDrafts,
  TransactionDraft,
  TransactionOutcome,
} from '../store/mirror-types.js';
import type { MirrorChain } from './chain.js';
import type { MirrorMetrics } from './metrics.js';

/** Retry timing of broadcasts and of parts that must be signed again. */
export interface RetryPolicy {
  /** Attempts of a batch's parts before the batch is marked failed. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The delay before attempt `attempt + 1`: doubling from `baseDelayMs`, capped at `maxDelayMs`. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

/** What one receipt check found. */
export interface TrackResult {
  mined: number;
  reverted: OutboxTransaction[];
  replaced: OutboxTransaction[];
}

export interface OutboxOptions {
  /** A sent transaction still without a receipt after this long is broadcast again (a node that
   * restarted has lost its pool). */
  rebroadcastAfterMs: number;
  store: MirrorStore;
  chain: MirrorChain;
  signer: Signer;
  chainId: number;
  retry: RetryPolicy;
  metrics: MirrorMetrics;
  logger: Logger;
  now?: () => number;
}

/**
 * The signer's outbox (STYLE rule 15, after FireFly's transaction manager): every transaction is
 * signed and stored with its nonce before a node sees it; stored transactions are broadcast in
 * nonce order and again after a crash; "already known" / "nonce too low" for a stored hash count as
 * sent; receipts settle them. One signer signs at a time, so its nonces stay in order; when it is
 * replaced (a key rotation), the transactions its predecessors stored are still broadcast and
 * tracked until they settle, and a part whose transaction fails is signed again by the current one.
 */
export class Outbox {
  /** The chain's transaction count for the current signer when last read: no nonce below it is free. */
  nonceFloor = 0;
  private signer: Signer;
  /**
   * Signers this outbox's signer replaced, kept in memory while their transactions are unsettled
   * so that a rejected one can still be filled at its nonce.
   */
  private readonly retired = new Map<string, Signer>();
  /** Sent transactions whose nonce the chain had passed without a receipt, once: seen twice → replaced. */
  private readonly suspectedReplaced = new Set<number>();
  private readonly now: () => number;

  constructor(private readonly options: OutboxOptions) {
    this.now = options.now ?? Date.now;
    this.signer = options.signer;
  }

  get signerAddress(): string {
    return this.signer.address;
  }

  /**
   * Makes `next` sign every transaction from now on. The replaced signer's stored transactions are
   * still broadcast and tracked. Call it between rounds, never while one runs: a round reads the
   * signer's nonce floor and signs with the same signer.
   * @param next - the new signer
   */
  replaceSigner(next: Signer): void {
    if (next.address === this.signer.address) return;
    this.retired.delete(next.address);
    this.retired.set(this.signer.address, this.signer);
    this.signer = next;
    this.nonceFloor = 0;
  }

  /** Signs drafts with consecutive nonces; given to the store, which picks the first nonce. */
  readonly sign: SignDrafts = (drafts, firstNonce) =>
    signDrafts(this.signer, this.options.chainId, drafts, firstNonce);

  /** Reads the chain's transaction count of the signer (the lowest nonce still free). */
  async refreshNonceFloor(): Promise<number> {
    this.nonceFloor = await this.options.chain.minedNonce(this.signer.address);
    return this.nonceFloor;
  }

  /**
   * Broadcasts, in nonce order, every stored transaction not yet accepted whose time has come, and
   * those sent long ago without a receipt; with `all`, every unfinished one (after a start).
   * @returns whether the node was reachable (false after a connection failure)
   */
  async broadcastDue(all = false): Promise<boolean> {
    const { store, chain, metrics, logger, retry } = this.options;
    const unfinished = await store.unfinishedTransactions();
    const due = unfinished.filter((transaction) => all || this.isDue(transaction));
    const raws = await store.rawTransactions(due.map((transaction) => transaction.id));
    const outcomes: TransactionOutcome[] = [];
    /** Replaced signers with a nonce that can never be filled: the nonce where they stopped. */
    const stuck = new Map<string, number>();
    let reachable = true;
    for (const transaction of due) {
      if (stuck.has(transaction.signer)) continue;
      const rawTx = raws.get(transaction.id)!;
      const outcome = await chain.broadcast(rawTx);
      const attempts = transaction.attempts + 1;
      metrics.broadcasts.inc({ outcome: outcome.kind });
      if (outcome.kind === 'accepted' || outcome.kind === 'known') {
        outcomes.push({ id: transaction.id, status: 'sent', attempts, nextAttemptAt: null });
        continue;
      }
      if (outcome.kind === 'rejected' && (await this.isKnown(transaction.txHash))) {
        outcomes.push({ id: transaction.id, status: 'sent', attempts, nextAttemptAt: null });
        continue;
      }
      if (outcome.kind === 'rejected' && transaction.attempts >= 1) {
        // Refused twice, and the node does not hold it: it will never be mined as signed.
        await store.recordOutcomes(outcomes.splice(0));
        const signer = this.signerOf(transaction.signer);
        if (signer) {
          await this.fillRejected(signer, transaction, rawTx, outcome.message);
        } else {
          stuck.set(transaction.signer, transaction.nonce);
          outcomes.push(...this.abandon(unfinished, transaction, outcome.message));
        }
        continue;
      }
      logger.warn(
        { txHash: transaction.txHash, nonce: transaction.nonce, reason: outcome.message, attempts },
        'broadcast not accepted; retrying later',
      );
      outcomes.push({
        id: transaction.id,
        status: transaction.status,
        attempts,
        reason: outcome.message,
        nextAttemptAt: new Date(this.now() + backoffMs(retry, attempts)).toISOString(),
      });
      if (outcome.kind === 'transient') {
        reachable = false;
        // The node is away: the later nonces would fail the same way; try again later.
        break;
      }
    }
    await store.recordOutcomes(outcomes);
    return reachable;
  }

  /**
   * Looks for receipts of sent transactions. A transaction whose nonce the chain has passed without
   * a receipt on two checks in a row lost its nonce to another transaction: it is `replaced`.
   * @returns what settled
   */
  async track(): Promise<TrackResult> {
    const { store, chain } = this.options;
    const unfinished = await store.unfinishedTransactions();
    this.forgetSettledSigners(unfinished);
    const sent = unfinished.filter((tx) => tx.status === 'sent');
    const result: TrackResult = { mined: 0, reverted: [], replaced: [] };
    if (sent.length === 0) return result;
    // The counts first: a transaction below its signer's count was mined before the receipts are
    // asked for.
    const minedNonces = new Map<string, number>();
    for (const signer of new Set(sent.map((tx) => tx.signer))) {
      minedNonces.set(signer, await chain.minedNonce(signer));
    }
    const current = minedNonces.get(this.signer.address);
    if (current !== undefined) this.nonceFloor = current;
    // Only a transaction below its signer's count can have a receipt: the others, still pending,
    // are not asked for.
    const receipts = await chain.receipts(
      sent.filter((tx) => tx.nonce < minedNonces.get(tx.signer)!).map((tx) => tx.txHash),
    );
    const outcomes: TransactionOutcome[] = [];
    for (const transaction of sent) {
      const receipt = receipts.get(transaction.txHash);
      if (receipt) {
        this.suspectedReplaced.delete(transaction.id);
        if (receipt.status === 'success') {
          result.mined += 1;
          outcomes.push({ id: transaction.id, status: 'mined', blockNumber: receipt.blockNumber });
        } else {
          const reason = `reverted in block ${receipt.blockNumber} (gas used ${receipt.gasUsed} of ${transaction.gasLimit})`;
          result.reverted.push({
            ...transaction,
            status: 'reverted',
            reason,
            blockNumber: receipt.blockNumber,
          });
          outcomes.push({ id: transaction.id, status: 'reverted', blockNumber: receipt.blockNumber, reason });
        }
      } else if (transaction.nonce < minedNonces.get(transaction.signer)!) {
        if (this.suspectedReplaced.has(transaction.id)) {
          this.suspectedReplaced.delete(transaction.id);
          const reason = `nonce ${transaction.nonce} was used by another transaction`;
          result.replaced.push({ ...transaction, status: 'replaced', reason });
          outcomes.push({ id: transaction.id, status: 'replaced', reason });
        } else {
          this.suspectedReplaced.add(transaction.id);
        }
      }
    }
    await store.recordOutcomes(outcomes);
    return result;
  }

  /** The signer of `address` if its key is in memory: the current one or one it replaced. */
  private signerOf(address: string): Signer | undefined {
    return address === this.signer.address ? this.signer : this.retired.get(address);
  }

  // A replaced signer's key stays in memory only while it has transactions to settle.
  private forgetSettledSigners(unfinished: readonly OutboxTransaction[]): void {
    if (this.retired.size === 0) return;
    const pending = new Set(unfinished.map((transaction) => transaction.signer));
    for (const address of this.retired.keys()) {
      if (!pending.has(address)) this.retired.delete(address);
    }
  }

  /**
   * A replaced signer whose key this process does not hold (it was replaced before a restart)
   * cannot fill a rejected nonce, so none of its later nonces can be mined either: that
   * transaction and every later one of its signer are `replaced`, and their parts are signed again
   * by the current signer.
   */
  private abandon(
    unfinished: readonly OutboxTransaction[],
    rejected: OutboxTransaction,
    message: string,
  ): TransactionOutcome[] {
    const reason = `rejected by the node (${message}) after its signer ${rejected.signer} was replaced; nonce ${rejected.nonce} cannot be filled without that key`;
    this.options.logger.error(
      { txHash: rejected.txHash, signer: rejected.signer, nonce: rejected.nonce, reason: message },
      "a replaced signer's transaction was rejected; its parts from this nonce on are signed again by the current signer",
    );
    return unfinished
      .filter((transaction) => transaction.signer === rejected.signer && transaction.nonce >= rejected.nonce)
      .map((transaction) => ({ id: transaction.id, status: 'replaced' as const, reason }));
  }

  private isDue(transaction: OutboxTransaction): boolean {
    if (transaction.status === 'sent') {
      return Date.parse(transaction.updatedAt) <= this.now() - this.options.rebroadcastAfterMs;
    }
    return !transaction.nextAttemptAt || Date.parse(transaction.nextAttemptAt) <= this.now();
  }

  /** A stored transaction's call as a draft, to sign again with a new nonce. */
  static redraft(transaction: OutboxTransaction, rawTx: string): TransactionDraft {
    const parsed = Transaction.from(rawTx);
    return {
      purpose: transaction.purpose,
      part: transaction.part,
      batchId: transaction.batchId,
      to: parsed.to!,
      data: parsed.data,
      gasLimit: parsed.gasLimit,
    };
  }

  private async isKnown(hash: string): Promise<boolean> {
    try {
      return await this.options.chain.knows(hash);
    } catch {
      return false;
    }
  }

  /**
   * A rejected transaction would block every later nonce: its row becomes a zero-value transfer to
   * the signer itself at the same nonce, and its part is signed again with a new nonce.
   */
  private async fillRejected(
    signer: Signer,
    transaction: OutboxTransaction,
    rawTx: string,
    message: string,
  ): Promise<void> {
    const { store, logger } = this.options;
    const [filler] = await signDrafts(
      signer,
      this.options.chainId,
      [
        {
          purpose: 'filler',
          part: null,
          batchId: null,
          to: signer.address,
          data: '0x',
          gasLimit: 21_000n,
        },
      ],
      transaction.nonce,
    );
    const reason = `rejected by the node (${message}); was ${transaction.txHash}, ${transaction.part ?? 'filler'} of batch ${transaction.batchId ?? '-'}`;
    await store.replaceWithFiller(transaction.id, filler!, reason);
    logger.error(
      { txHash: transaction.txHash, nonce: transaction.nonce, reason: message },
      'transaction rejected; nonce filled',
    );
    if (transaction.purpose === 'filler' || !transaction.batchId) return;
    // The part goes to the current signer, whose floor may not have been read since it took over.
    await this.refreshNonceFloor();
    await store.resign({
      replaced: [],
      drafts: [Outbox.redraft(transaction, rawTx)],
      signer: this.signerAddress,
      nonceFloor: this.nonceFloor,
      sign: this.sign,
      batchIds: [transaction.batchId],
      audit: {
        actor: 'mirror-worker',
        action: 'transaction.resigned',
        subject: transaction.batchId,
        details: { part: transaction.part, previous: transaction.txHash, reason: 'rejected' },
      },
    });
  }
}

async function signDrafts(
  signer: Signer,
  chainId: number,
  drafts: readonly TransactionDraft[],
  firstNonce: number,
): Promise<SignedTransaction[]> {
  const signed: SignedTransaction[] = [];
  for (const [index, draft] of drafts.entries()) {
    signed.push(
      await signer.signTransaction({
        chainId,
        nonce: firstNonce + index,
        to: draft.to,
        data: draft.data,
        gasLimit: draft.gasLimit,
        gasPrice: 0n,
      }),
    );
  }
  return signed;
}
