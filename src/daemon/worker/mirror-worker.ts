import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Signer } from '../services/signer.js';
import type { BatchRecord, OutboxTransaction } from '../store/mirror-types.js';
import type { Store } from '../store/types.js';
import type { MirrorChain } from './chain.js';
import { currentTransaction } from './evidence.js';
import { HoldingsIndexer } from './indexer.js';
import type { MirrorMetrics } from './metrics.js';
import { Outbox, backoffMs, type RetryPolicy } from './outbox.js';
import { planBatch, type MirrorContracts } from './plan.js';

/** How the worker batches and paces itself (the adapter configuration's `mirror` section). */
export interface MirrorSettings {
  /** Most activities in one batch (one Merkle root). */
  batchMaxSize: number;
  /** How long activities wait for a batch to fill before a smaller one is cut. */
  batchIntervalMs: number;
  /** Payments per mint transaction. */
  maxEntriesPerTx: number;
  /** Batches submitted and not yet settled before the worker stops cutting new ones. */
  maxBatchesInFlight: number;
  /** Pause between rounds (broadcast, receipts, settle, cut, index). */
  pollIntervalMs: number;
  /** Blocks per eth_getLogs request of the index. */
  indexBlocksPerQuery: number;
  /** A sent transaction without a receipt after this long is broadcast again. */
  rebroadcastAfterMs: number;
  retry: RetryPolicy;
}

/** The contracts and the first block worth indexing, once they are deployed. */
export interface MirrorDeployment extends MirrorContracts {
  startBlock: number;
}

export interface MirrorWorkerOptions {
  store: Store;
  chain: MirrorChain;
  signer: Signer;
  chainId: number;
  /** Reads the workspace's deployments; undefined while the contracts are not deployed. */
  deployment: () => Promise<MirrorDeployment | undefined>;
  settings: MirrorSettings;
  metrics: MirrorMetrics;
  logger: Logger;
}

const ACTOR = 'mirror-worker';

/**
 * The mirror worker: cuts queued activities into batches, signs and stores each batch's
 * transactions (anchor, points mints, badge mints) in the same write that claims the activities,
 * broadcasts them, settles them by receipt (IBFT 2.0 blocks are final: one receipt confirms),
 * signs failed parts again with backoff and marks a batch failed, with the reason, when its parts
 * keep failing. It also keeps the balance and badge index up with the chain.
 *
 * Lifecycle (STYLE rule 14): `start(signal)` resolves once stopped. Aborting stops it from cutting
 * new batches; a batch being stored is stored whole (one transaction), and what was signed but not
 * yet mined is picked up from the database by the next start.
 */
export class MirrorWorker {
  private readonly outbox: Outbox;
  private readonly retryAt = new Map<string, number>();
  /** Acceptance times of activities in batches cut by this process, for the latency metric. */
  private readonly acceptedAt = new Map<string, number[]>();
  private lastCut = 0;
  private lastCutWasFull = false;
  private indexer: HoldingsIndexer | undefined;
  private deployment: MirrorDeployment | undefined;
  /** The round the loop is running, if any: a signer is only replaced between rounds. */
  private roundInProgress: Promise<void> | undefined;

  constructor(private readonly options: MirrorWorkerOptions) {
    this.outbox = new Outbox({
      store: options.store.mirror,
      chain: options.chain,
      signer: options.signer,
      chainId: options.chainId,
      retry: options.settings.retry,
      rebroadcastAfterMs: options.settings.rebroadcastAfterMs,
      metrics: options.metrics,
      logger: options.logger,
    });
    options.metrics.signer.set({ address: options.signer.address }, 1);
  }

  /** The address that signs the worker's transactions now. */
  get signerAddress(): string {
    return this.outbox.signerAddress;
  }

  /**
   * Makes `signer` sign every transaction from the next round on (a key rotation), once the round
   * in progress, if any, has ended. What the replaced signer stored is still broadcast and settled;
   * a part of it that fails is signed again by the new signer.
   * @param signer - the new signer
   * @returns the address it replaced
   */
  async replaceSigner(signer: Signer): Promise<string> {
    while (this.roundInProgress) await this.roundInProgress.catch(() => undefined);
    const previous = this.outbox.signerAddress;
    this.outbox.replaceSigner(signer);
    if (previous !== signer.address) {
      this.options.metrics.signer.reset();
      this.options.metrics.signer.set({ address: signer.address }, 1);
    }
    return previous;
  }

  /**
   * Runs until the signal aborts.
   * @param signal - stops the worker
   */
  async start(signal: AbortSignal): Promise<void> {
    const { logger, settings } = this.options;
    await this.prepare(signal);
    let failures = 0;
    let firstRound = true;
    while (!signal.aborted) {
      try {
        this.roundInProgress = this.round(firstRound);
        await this.roundInProgress;
        firstRound = false;
        failures = 0;
      } catch (error) {
        failures += 1;
        logger.warn({ err: error, failures }, 'mirror round failed; retrying');
      } finally {
        this.roundInProgress = undefined;
      }
      const pause = failures === 0 ? settings.pollIntervalMs : backoffMs(settings.retry, failures);
      await sleep(pause, signal);
    }
    logger.info('mirror worker stopped');
  }

  /** One round: broadcast what is due, settle receipts and batches, cut a batch, index events. */
  async round(afterStart = false): Promise<void> {
    const reachable = await this.outbox.broadcastDue(afterStart);
    const tracked = await this.outbox.track();
    if (tracked.reverted.length + tracked.replaced.length > 0) {
      this.options.logger.warn(
        { reverted: tracked.reverted.map(describe), replaced: tracked.replaced.map(describe) },
        'transactions failed; their parts will be signed again',
      );
    }
    const inFlight = await this.settle();
    if (reachable && inFlight < this.options.settings.maxBatchesInFlight) await this.cutIfDue();
    await this.index();
  }

  /**
   * Waits until the chain answers with the right chain id and the contracts are deployed; `start`
   * does this first.
   * @param signal - stops waiting
   */
  async prepare(signal: AbortSignal): Promise<void> {
    const { chain, chainId, logger, settings } = this.options;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const actual = await untilAborted(chain.chainId(), signal);
        if (actual !== chainId) {
          throw new Error(
            `the node at the RPC URL serves chain ${actual}, the configuration says ${chainId}`,
          );
        }
        this.deployment = await this.options.deployment();
        if (!this.deployment) throw new Error('the contracts are not deployed yet (no deployments record)');
        await this.outbox.refreshNonceFloor();
        const lastConfirmed = await this.options.store.mirror.lastConfirmedBlock();
        if (lastConfirmed !== null) this.options.metrics.lastConfirmedBlock.set(lastConfirmed);
        this.indexer = new HoldingsIndexer({
          store: this.options.store.mirror,
          chain,
          contracts: this.deployment,
          startBlock: this.deployment.startBlock,
          blocksPerQuery: settings.indexBlocksPerQuery,
        });
        logger.info(
          { chainId, signer: this.outbox.signerAddress, contracts: this.deployment },
          'mirror worker ready',
        );
        return;
      } catch (error) {
        if (signal.aborted) return;
        logger.warn({ reason: (error as Error).message, attempt }, 'mirror worker waiting for the chain');
        await sleep(backoffMs(settings.retry, attempt), signal);
      }
    }
  }

  /**
   * Settles the batches in flight: confirmed when every part's transaction is mined; parts whose
   * transaction reverted or lost its nonce are signed again after a backoff, until the batch has
   * used its attempts, then it is failed with the reason.
   * @returns how many batches remain in flight
   */
  private async settle(): Promise<number> {
    const { store, settings, metrics, logger } = this.options;
    const batches = await store.mirror.batchesInFlight();
    let inFlight = batches.length;
    for (const batch of batches) {
      const transactions = await store.mirror.batchTransactions(batch.id);
      const current = batch.parts.map((part) => currentTransaction(transactions, part.part));
      if (current.every((transaction) => transaction?.status === 'mined')) {
        const blockNumber = Math.max(...current.map((transaction) => transaction!.blockNumber ?? 0));
        await store.mirror.confirmBatch(batch.id, blockNumber, {
          actor: ACTOR,
          action: 'batch.confirmed',
          subject: batch.id,
          details: { size: batch.size, blockNumber, merkleRoot: batch.merkleRoot },
        });
        inFlight -= 1;
        this.retryAt.delete(batch.id);
        metrics.batches.inc({ outcome: 'confirmed' });
        metrics.activities.inc({ outcome: 'confirmed' }, batch.size);
        metrics.lastConfirmedBlock.set(blockNumber);
        const now = Date.now();
        for (const accepted of this.acceptedAt.get(batch.id) ?? []) {
          metrics.confirmationLatency.observe((now - accepted) / 1000);
        }
        this.acceptedAt.delete(batch.id);
        logger.info({ batchId: batch.id, size: batch.size, blockNumber }, 'batch confirmed');
        continue;
      }
      const failed = current.filter(
        (transaction): transaction is OutboxTransaction =>
          transaction !== undefined &&
          (transaction.status === 'reverted' || transaction.status === 'replaced'),
      );
      if (failed.length === 0) continue;
      if (batch.attempts + 1 >= settings.retry.maxAttempts) {
        await this.fail(batch, failed);
        inFlight -= 1;
        continue;
      }
      const due = this.retryAt.get(batch.id);
      if (due === undefined) {
        this.retryAt.set(batch.id, Date.now() + backoffMs(settings.retry, batch.attempts + 1));
      } else if (Date.now() >= due) {
        this.retryAt.delete(batch.id);
        await this.resign(batch, failed);
      }
    }
    metrics.batchesInFlight.set(inFlight);
    return inFlight;
  }

  private async resign(batch: BatchRecord, failed: OutboxTransaction[]): Promise<void> {
    for (const transaction of failed) this.options.metrics.resigned.inc({ cause: transaction.status });
    await this.outbox.refreshNonceFloor();
    const raws = await this.options.store.mirror.rawTransactions(failed.map((transaction) => transaction.id));
    await this.options.store.mirror.resign({
      replaced: [],
      drafts: failed.map((transaction) => Outbox.redraft(transaction, raws.get(transaction.id)!)),
      signer: this.outbox.signerAddress,
      nonceFloor: this.outbox.nonceFloor,
      sign: this.outbox.sign,
      batchIds: [batch.id],
      audit: {
        actor: ACTOR,
        action: 'transaction.resigned',
        subject: batch.id,
        details: {
          attempt: batch.attempts + 1,
          parts: failed.map((transaction) => ({
            part: transaction.part,
            previous: transaction.txHash,
            reason: transaction.reason,
          })),
        },
      },
    });
  }

  private async fail(batch: BatchRecord, failed: OutboxTransaction[]): Promise<void> {
    const { store, metrics, logger } = this.options;
    const reason = `gave up after ${batch.attempts + 1} attempts: ${failed
      .map((transaction) => `${transaction.part} ${transaction.reason ?? transaction.status}`)
      .join('; ')}`;
    await store.mirror.failBatch(batch.id, reason, {
      actor: ACTOR,
      action: 'batch.failed',
      subject: batch.id,
      details: { size: batch.size, reason },
    });
    this.retryAt.delete(batch.id);
    this.acceptedAt.delete(batch.id);
    metrics.batches.inc({ outcome: 'failed' });
    metrics.activities.inc({ outcome: 'failed' }, batch.size);
    logger.error({ batchId: batch.id, reason }, 'batch failed');
  }

  /** Cuts a batch when one is full or the oldest queued activity has waited the interval. */
  private async cutIfDue(): Promise<void> {
    const { store, settings, metrics, logger } = this.options;
    const now = Date.now();
    if (!this.lastCutWasFull && now - this.lastCut < settings.batchIntervalMs) return;
    const activities = await store.mirror.claimable(settings.batchMaxSize, new Date(now).toISOString());
    this.lastCut = now;
    this.lastCutWasFull = activities.length === settings.batchMaxSize;
    if (activities.length === 0) return;
    const batchId = `0x${randomBytes(32).toString('hex')}`;
    const plan = planBatch(batchId, activities, this.deployment!, settings.maxEntriesPerTx);
    await this.outbox.refreshNonceFloor();
    const transactions = await store.mirror.submitBatch({
      batch: { id: batchId, merkleRoot: plan.tree.root, size: activities.length, parts: plan.parts },
      activityIds: activities.map((activity) => activity.id),
      drafts: plan.drafts,
      signer: this.outbox.signerAddress,
      nonceFloor: this.outbox.nonceFloor,
      sign: this.outbox.sign,
      audit: {
        actor: ACTOR,
        action: 'batch.submitted',
        subject: batchId,
        details: { size: activities.length, merkleRoot: plan.tree.root, transactions: plan.drafts.length },
      },
    });
    this.acceptedAt.set(
      batchId,
      activities.map((activity) => Date.parse(activity.createdAt)),
    );
    metrics.batches.inc({ outcome: 'submitted' });
    logger.info(
      {
        batchId,
        size: activities.length,
        transactions: transactions.length,
        firstNonce: transactions[0]?.nonce,
      },
      'batch submitted',
    );
    await this.outbox.broadcastDue();
  }

  private async index(): Promise<void> {
    if (!this.indexer) return;
    const block = await this.indexer.catchUp();
    if (block >= 0) this.options.metrics.indexedBlock.set(block);
  }
}

function describe(transaction: OutboxTransaction) {
  return {
    txHash: transaction.txHash,
    part: transaction.part,
    batchId: transaction.batchId,
    reason: transaction.reason,
  };
}

/** Stops waiting for `promise` when the signal aborts (it rejects then; nothing is left to finish). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new Error('stopped'));
    signal.addEventListener('abort', stop, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
