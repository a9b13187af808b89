import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Transaction, Wallet, keccak256 } from 'ethers';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/postgres.js';
import { aTempDir } from '../support/temp-dir.js';
import type { Signer } from '../../src/daemon/services/signer.js';
import { openStore } from '../../src/daemon/store/open.js';
import type { Store } from '../../src/daemon/store/types.js';
import type { BroadcastOutcome, ChainReceipt, MirrorChain } from '../../src/daemon/worker/chain.js';
import { createMirrorMetrics } from '../../src/daemon/worker/metrics.js';
import { MirrorWorker, type MirrorSettings } from '../../src/daemon/worker/mirror-worker.js';

// The worker's failure paths against a scripted node and a real SQLite store.

const CHAIN_ID = 4242;
const CONTRACTS = {
  pointsToken: `0x${'11'.repeat(20)}`,
  badges: `0x${'22'.repeat(20)}`,
  activityLog: `0x${'33'.repeat(20)}`,
  startBlock: 0,
};

/** A node whose answers the test decides: a pool, nonces, receipts, scripted broadcast refusals. */
class ScriptedChain implements MirrorChain {
  /** Transactions mined per sender (lowercase address). */
  nonces = new Map<string, number>();
  /** The sender `nonce` reads and writes: the first worker's signer. */
  primary = '';
  pool = new Map<string, string>();
  receiptsByHash = new Map<string, ChainReceipt>();
  broadcasts: { hash: string; nonce: number }[] = [];
  refuse: ((raw: string) => BroadcastOutcome | undefined) | undefined;
  block = 1;

  chainId = async () => CHAIN_ID;
  blockNumber = async () => this.block;
  minedNonce = async (address: string) => this.nonces.get(address.toLowerCase()) ?? 0;
  get nonce(): number {
    return this.nonces.get(this.primary) ?? 0;
  }
  set nonce(value: number) {
    this.nonces.set(this.primary, value);
  }
  knows = async (hash: string) => this.pool.has(hash) || this.receiptsByHash.has(hash);
  async broadcast(raw: string): Promise<BroadcastOutcome> {
    const hash = keccak256(raw);
    this.broadcasts.push({ hash, nonce: Transaction.from(raw).nonce });
    const refusal = this.refuse?.(raw);
    if (refusal) return refusal;
    if (this.pool.has(hash)) return { kind: 'known', message: 'already known' };
    this.pool.set(hash, raw);
    return { kind: 'accepted' };
  }
  /** The hashes of each receipts call, in order. */
  receiptQueries: string[][] = [];
  async receipts(hashes: readonly string[]) {
    this.receiptQueries.push([...hashes]);
    return new Map(hashes.map((hash) => [hash, this.receiptsByHash.get(hash) ?? null] as const));
  }
  logs = async () => [];
  blockHash = async () => null;
  close() {}

  /** Mines everything in the pool in nonce order; `status` decides each transaction's fate. */
  mine(status: (tx: Transaction) => 'success' | 'reverted' = () => 'success'): void {
    this.block += 1;
    const ready = [...this.pool.values()]
      .map((raw) => Transaction.from(raw))
      .sort((a, b) => a.nonce - b.nonce);
    for (const tx of ready) {
      const sender = tx.from!.toLowerCase();
      if (tx.nonce !== (this.nonces.get(sender) ?? 0)) continue;
      this.receiptsByHash.set(tx.hash!, { status: status(tx), blockNumber: this.block, gasUsed: 50_000n });
      this.pool.delete(tx.hash!);
      this.nonces.set(sender, tx.nonce + 1);
    }
  }
}

function aSigner(): Signer {
  const wallet = Wallet.createRandom();
  return {
    address: wallet.address.toLowerCase(),
    async signTransaction(tx) {
      const raw = await wallet.signTransaction(Transaction.from({ type: 0, ...tx, value: tx.value ?? 0n }));
      return { raw, hash: keccak256(raw) };
    },
  };
}

const SETTINGS: MirrorSettings = {
  batchMaxSize: 100,
  batchIntervalMs: 1,
  maxEntriesPerTx: 50,
  maxBatchesInFlight: 4,
  pollIntervalMs: 1,
  indexBlocksPerQuery: 100,
  rebroadcastAfterMs: 60_000,
  retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
};

let stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
});

/** Where a suite's stores live: a new SQLite file or PostgreSQL schema per test. */
type DatabaseUrl = () => Promise<string>;

const anSqliteUrl: DatabaseUrl = async () =>
  `sqlite://${join(await aTempDir('peruri-outbox-'), 'adapter.db')}`;

/**
 * A worker over a new store and scripted node; with `restartOf`, a worker started anew over the
 * store and node of an earlier one (a daemon restart), with its own signer.
 */
async function aWorker(
  databaseUrl: DatabaseUrl,
  settings: Partial<MirrorSettings> = {},
  restartOf?: { store: Store; chain: ScriptedChain },
) {
  const store =
    restartOf?.store ??
    (
      await openStore({
        url: await databaseUrl(),
        groupCommit: { maxDelayMs: 0, maxBatch: 100 },
      })
    ).store;
  if (!restartOf) stores.push(store);
  const chain = restartOf?.chain ?? new ScriptedChain();
  const signer = aSigner();
  chain.primary ||= signer.address;
  const worker = new MirrorWorker({
    store,
    chain,
    signer,
    chainId: CHAIN_ID,
    deployment: async () => CONTRACTS,
    settings: { ...SETTINGS, ...settings },
    metrics: createMirrorMetrics(new Registry(), 'test_'),
    logger: pino({ level: 'silent' }),
  });
  // ready to run rounds one by one, without the loop
  await worker.prepare(new AbortController().signal);
  const queue = async (count: number) => {
    const ids: string[] = [];
    for (let index = 0; index < count; index++) {
      const id = randomUUID();
      ids.push(id);
      await store.insertActivity(
        {
          id,
          idempotencyKey: id,
          requestHash: 'a'.repeat(64),
          kind: 'activity',
          userId: `user-${index}`,
          wallet: `0x${randomBytes(20).toString('hex')}`,
          type: 'test',
          occurredAt: '2026-11-24T10:00:00.000Z',
          payload: null,
          points: '7',
          badgeId: null,
          badgeAmount: null,
          activityRef: `0x${randomBytes(32).toString('hex')}`,
          detailHash: `0x${randomBytes(32).toString('hex')}`,
        },
        { actor: 'test', action: 'activity.accepted', subject: id, details: {} },
      );
    }
    return ids;
  };
  const rounds = async (count: number, between?: () => void) => {
    for (let index = 0; index < count; index++) {
      await worker.round();
      between?.();
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  };
  return { store, chain, signer, worker, queue, rounds };
}

function workerSuite(databaseUrl: DatabaseUrl): void {
  it('signs and stores a batch before the node sees it, then confirms it by receipt', async () => {
    const { store, chain, queue, rounds } = await aWorker(databaseUrl);
    await queue(3);
    chain.refuse = () => ({ kind: 'transient', message: 'connect ECONNREFUSED' });
    await rounds(1);
    // the node was away: nothing accepted, but the batch and its two transactions are stored
    const [batch] = await store.mirror.batchesInFlight();
    const stored = await store.mirror.batchTransactions(batch!.id);
    expect(stored.map((tx) => [tx.part, tx.nonce, tx.status])).toEqual([
      ['anchor', 0, 'signed'],
      ['points:0', 1, 'signed'],
    ]);
    chain.refuse = undefined;
    await rounds(2);
    chain.mine();
    await rounds(2);
    expect((await store.mirror.getBatch(batch!.id))!.status).toBe('confirmed');
    expect(await store.queueDepth()).toBe(0);
  });

  it("asks for the receipts only of transactions below their signer's mined count", async () => {
    const { chain, queue, rounds } = await aWorker(databaseUrl);
    await queue(3);
    await rounds(2);
    const sent = chain.broadcasts.map((broadcast) => broadcast.hash);
    expect(sent).toHaveLength(2);
    chain.receiptQueries = [];
    await rounds(2);
    // both wait in the pool: the count says neither can have a receipt
    expect(chain.receiptQueries.flat()).toEqual([]);
    chain.mine();
    await rounds(2);
    // asked once, when mined: a transaction with its receipt is no longer sent
    expect(chain.receiptQueries.flat().sort()).toEqual([...sent].sort());
  });

  it('counts "already known" and "nonce too low" as sent', async () => {
    const { store, chain, queue, rounds } = await aWorker(databaseUrl);
    await queue(1);
    chain.refuse = (raw) =>
      Transaction.from(raw).nonce === 0
        ? { kind: 'known', message: 'already known' }
        : { kind: 'known', message: 'nonce too low' };
    await rounds(1);
    const [batch] = await store.mirror.batchesInFlight();
    expect((await store.mirror.batchTransactions(batch!.id)).map((tx) => tx.status)).toEqual([
      'sent',
      'sent',
    ]);
    expect((await store.mirror.unfinishedTransactions()).map((tx) => tx.status)).toEqual(['sent', 'sent']);
  });

  it('signs a reverted part again with a new nonce, then fails the batch with the reason when it keeps reverting', async () => {
    const { store, chain, queue, rounds } = await aWorker(databaseUrl, {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const [first] = await queue(2);
    for (let index = 0; index < 8; index++) {
      await rounds(1);
      chain.mine((tx) => (tx.to!.toLowerCase() === CONTRACTS.pointsToken ? 'reverted' : 'success'));
    }
    await rounds(3);
    expect(await store.mirror.batchesInFlight()).toEqual([]);
    expect((await store.rowCounts()).batches).toBe(1);
    const failed = (await store.getActivity(first!))!;
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/gave up after 3 attempts: points:0 reverted in block \d+/);
    // one anchor, three attempts of the mint, each with its own nonce
    const nonces = chain.broadcasts.map((broadcast) => broadcast.nonce);
    expect(new Set(nonces)).toEqual(new Set([0, 1, 2, 3]));
  });

  it('gives the nonce of a transaction the node refuses for good to a filler and signs its part again', async () => {
    const { store, chain, signer, queue, rounds } = await aWorker(databaseUrl);
    await queue(1);
    chain.refuse = (raw) =>
      Transaction.from(raw).nonce === 1 && Transaction.from(raw).to?.toLowerCase() === CONTRACTS.pointsToken
        ? { kind: 'rejected', message: 'exceeds block gas limit' }
        : undefined;
    await rounds(3);
    chain.refuse = undefined;
    await rounds(2);
    chain.mine();
    await rounds(2);
    const [batch] = await store.mirror.batchesInFlight();
    expect(batch).toBeUndefined();
    const fillerAndRetry = chain.broadcasts.filter((broadcast) => broadcast.nonce >= 1);
    const mined = [...chain.receiptsByHash.keys()];
    expect(mined.length).toBe(3); // anchor, filler at nonce 1, the mint again at nonce 2
    expect(fillerAndRetry.map((broadcast) => broadcast.nonce)).toContain(2);
    expect(chain.nonce).toBe(3);
    expect(signer.address).toMatch(/^0x/);
  });

  it('signs a part again when its nonce was taken by another transaction', async () => {
    const { store, chain, queue, rounds } = await aWorker(databaseUrl);
    await queue(1);
    await rounds(1);
    // another holder of the key used nonces 0 and 1 first: our two transactions can never be mined
    chain.pool.clear();
    chain.nonce = 2;
    await rounds(4);
    chain.mine();
    await rounds(2);
    expect(await store.mirror.batchesInFlight()).toEqual([]);
    expect(await store.mirror.unfinishedTransactions()).toEqual([]);
    expect([...chain.receiptsByHash.values()].length).toBe(2); // anchor and mint at nonces 2 and 3
  });

  it('after its signer is replaced, settles what the old one stored and signs new batches with the new one', async () => {
    const { store, chain, signer, worker, queue, rounds } = await aWorker(databaseUrl);
    await queue(2);
    await rounds(1);
    const [first] = await store.mirror.batchesInFlight();
    // When the signer is replaced while the first batch waits for its block
    const next = aSigner();
    expect(await worker.replaceSigner(next)).toBe(signer.address);
    expect(worker.signerAddress).toBe(next.address);
    await queue(2);
    await rounds(1);
    chain.mine();
    await rounds(2);
    // Then both batches are confirmed: the first with the old key's nonces, the second with the new key's
    expect(await store.mirror.batchesInFlight()).toEqual([]);
    const firstTransactions = await store.mirror.batchTransactions(first!.id);
    expect(firstTransactions.map((tx) => [tx.signer, tx.nonce, tx.status])).toEqual([
      [signer.address, 0, 'mined'],
      [signer.address, 1, 'mined'],
    ]);
    expect(chain.nonces.get(next.address)).toBe(2);
    expect(await store.mirror.unfinishedTransactions()).toEqual([]);
    expect((await store.rowCounts()).batches).toBe(2);
  });

  it("signs a replaced signer's reverted part again with the new signer (its role was revoked)", async () => {
    const { store, chain, signer, worker, queue, rounds } = await aWorker(databaseUrl);
    await queue(1);
    await rounds(1);
    const [batch] = await store.mirror.batchesInFlight();
    const next = aSigner();
    await worker.replaceSigner(next);
    // The old key lost its minting role before its mint was mined
    chain.mine((tx) =>
      tx.from!.toLowerCase() === signer.address && tx.to!.toLowerCase() === CONTRACTS.pointsToken
        ? 'reverted'
        : 'success',
    );
    await rounds(4);
    chain.mine();
    await rounds(2);
    expect((await store.mirror.getBatch(batch!.id))!.status).toBe('confirmed');
    const transactions = await store.mirror.batchTransactions(batch!.id);
    expect(transactions.map((tx) => [tx.part, tx.signer, tx.status])).toEqual([
      ['anchor', signer.address, 'mined'],
      ['points:0', signer.address, 'reverted'],
      ['points:0', next.address, 'mined'],
    ]);
  });

  it("after a restart on a new key, signs again the parts of an old key's transaction the node refuses for good, and every later one of that key", async () => {
    const before = await aWorker(databaseUrl);
    await before.queue(1);
    before.chain.refuse = () => ({ kind: 'transient', message: 'connect ECONNREFUSED' });
    await before.rounds(1);
    const [batch] = await before.store.mirror.batchesInFlight();
    // When the daemon starts again with a new key, and the node refuses the old key's first nonce
    const after = await aWorker(databaseUrl, {}, before);
    after.chain.refuse = (raw) =>
      Transaction.from(raw).from!.toLowerCase() === before.signer.address && Transaction.from(raw).nonce === 0
        ? { kind: 'rejected', message: 'intrinsic gas too low' }
        : undefined;
    await after.rounds(6);
    after.chain.mine();
    await after.rounds(2);
    // Then both parts went to the new key (the old key's nonce 1 could never be mined after the gap)
    expect((await after.store.mirror.getBatch(batch!.id))!.status).toBe('confirmed');
    const transactions = await after.store.mirror.batchTransactions(batch!.id);
    expect(transactions.filter((tx) => tx.status === 'mined').map((tx) => tx.signer)).toEqual([
      after.signer.address,
      after.signer.address,
    ]);
    expect(transactions.filter((tx) => tx.signer === before.signer.address).map((tx) => tx.status)).toEqual([
      'replaced',
      'replaced',
    ]);
    expect(after.chain.nonces.get(before.signer.address) ?? 0).toBe(0);
    expect(await after.store.mirror.unfinishedTransactions()).toEqual([]);
  });

  it('applies a range of indexed events only while the cursor is where it was read', async () => {
    const { store } = await aWorker(databaseUrl);
    const wallet = `0x${'ab'.repeat(20)}`;
    const events = (expectedBlock: number, toBlock: number, delta: bigint) => ({
      cursor: 'holdings',
      expectedBlock,
      toBlock,
      toBlockHash: null,
      balanceDeltas: new Map([[wallet, delta]]),
      badgeDeltas: new Map([[`${wallet}|7`, 1n]]),
    });
    expect(await store.mirror.applyIndexedEvents(events(-1, 10, 100n))).toBe(true);
    expect(await store.mirror.applyIndexedEvents(events(10, 20, 5n))).toBe(true);
    // a range read before the cursor moved is refused, and changes nothing
    expect(await store.mirror.applyIndexedEvents(events(10, 20, 5n))).toBe(false);
    expect(await store.holdings(wallet)).toEqual({ balance: '105', badges: [{ id: '7', amount: '2' }] });
    await store.mirror.resetIndex({ actor: 'test', action: 'index.reset', subject: 'holdings', details: {} });
    expect(await store.mirror.cursor('holdings')).toBe(-1);
    expect(await store.holdings(wallet)).toEqual({ balance: '0', badges: [] });
    expect(await store.mirror.applyIndexedEvents(events(20, 30, 1n))).toBe(false);
    expect(await store.verifyAudit()).toMatchObject({ ok: true });
  });
}

describe('mirror worker on SQLite', () => workerSuite(anSqliteUrl));

describeWithPostgres('mirror worker on PostgreSQL', (postgres) => workerSuite(() => postgres.aSchemaUrl()));
