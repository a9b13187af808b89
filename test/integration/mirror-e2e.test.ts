import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  adapterClient,
  readChainRecord,
  verifyOnChain,
  waitSettled,
  type Accepted,
} from '../support/mirror-client.js';
import { reindexHoldings } from '../../src/daemon/reindex.js';
import { aMirrorStack, startAdapterInProcess } from '../support/mirror-stack.js';

// The whole mirror on a real EVM node: HTTP intake → batches → anchors and mints on-chain →
// receipts → confirmed, checked against the chain's own events, not the adapter's database.

const USERS = 40;

/** Activity `index` of a mixed load: most pay points, every 10th gives a badge, every 7th pays nothing. */
function nthActivity(index: number) {
  const points = index % 7 === 0 ? 0n : BigInt(1 + (index % 50));
  const badge = index % 10 === 0 ? { id: BigInt(1 + (index % 3)), amount: 1n } : null;
  return {
    userId: `user-${index % USERS}`,
    points,
    badge,
    body: {
      userId: `user-${index % USERS}`,
      type: 'quiz.completed',
      occurredAt: '2026-11-24T10:15:00+07:00',
      payload: { quiz: index },
      points: points.toString(),
      ...(badge ? { badge: { id: badge.id.toString(), amount: badge.amount.toString() } } : {}),
    },
  };
}

describe('mirror worker end to end', () => {
  it('puts 1,000 activities from concurrent clients on-chain exactly once, with balances and badges to match', async () => {
    // Given a running adapter on a local chain with 1-second blocks
    const stack = await aMirrorStack({ mirror: { batchMaxSize: 300, maxEntriesPerTx: 120 } });
    const adapter = await startAdapterInProcess(stack);
    const client = adapterClient(adapter.url, await stack.token());

    // When 20 clients send 1,000 activities and mints between them
    const accepted: Accepted[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < 1_000) {
          const index = next++;
          const activity = nthActivity(index);
          const answer =
            index % 25 === 0
              ? await client.mint({ userId: activity.userId, amount: '5', reason: 'welcome' }, randomUUID())
              : await client.track(activity.body, randomUUID());
          expect(answer.status).toBe(202);
          accepted.push({
            id: String(answer.body.id),
            userId: activity.userId,
            points: index % 25 === 0 ? 5n : activity.points,
            badge: index % 25 === 0 ? null : activity.badge,
          });
        }
      }),
    );

    // Then every one is confirmed
    const settled = await waitSettled(
      client,
      accepted.map((activity) => activity.id),
      90_000,
    );
    expect([...settled.values()].filter((body) => body.status !== 'confirmed')).toEqual([]);
    expect(settled.size).toBe(1_000);

    // And the chain's events show each payment and badge exactly once, to the right wallet
    const chain = await readChainRecord(stack.chain.url, stack.contracts);
    expect(chain.duplicateMints).toEqual([]);
    expect(chain.duplicateBadgeMints).toEqual([]);
    const wallets = new Map<string, string>();
    for (const userId of new Set(accepted.map((activity) => activity.userId))) {
      wallets.set(userId, String((await client.wallet(userId)).body.address));
    }
    for (const activity of accepted) {
      const body = settled.get(activity.id)!;
      const ref = String(body.activityRef);
      if (activity.points > 0n) {
        expect(chain.mints.get(ref)).toEqual({ to: wallets.get(activity.userId), amount: activity.points });
      } else {
        expect(chain.mints.has(ref)).toBe(false);
      }
      if (activity.badge) {
        expect(chain.badgeMints.get(ref)).toEqual({
          to: wallets.get(activity.userId),
          id: activity.badge.id,
          amount: activity.badge.amount,
        });
      } else {
        expect(chain.badgeMints.has(ref)).toBe(false);
      }
    }
    const paying = accepted.filter((activity) => activity.points > 0n).length;
    expect(chain.mints.size).toBe(paying);
    // every activity sits in exactly one anchored batch: the anchored counts add up to 1,000
    expect([...chain.anchors.values()].reduce((sum, count) => sum + count, 0)).toBe(1_000);

    // And the evidence the adapter gives verifies on-chain, for a sample
    for (const activity of accepted.slice(0, 15)) {
      const body = settled.get(activity.id)! as {
        merkleRoot: string;
        leaf: string;
        proof: string[];
        txHashes: string[];
      };
      expect(chain.anchors.has(body.merkleRoot)).toBe(true);
      expect(body.txHashes.length).toBeGreaterThanOrEqual(1);
      expect(await verifyOnChain(stack.chain.url, stack.contracts.activityLog, body)).toBe(true);
    }

    // And the balance cache and badge index, filled from chain events, match what was paid
    const deadline = Date.now() + 20_000;
    const expected = new Map<string, { balance: bigint; badges: Map<string, bigint> }>();
    for (const activity of accepted) {
      const entry = expected.get(activity.userId) ?? { balance: 0n, badges: new Map() };
      entry.balance += activity.points;
      if (activity.badge) {
        const key = activity.badge.id.toString();
        entry.badges.set(key, (entry.badges.get(key) ?? 0n) + activity.badge.amount);
      }
      expected.set(activity.userId, entry);
    }
    for (const [userId, want] of expected) {
      let body: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        body = (await client.wallet(userId)).body;
        if (BigInt(String(body.balance)) === want.balance) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(BigInt(String(body.balance))).toBe(want.balance);
      const badges = new Map(
        (body.badges as { id: string; amount: string }[]).map((badge) => [badge.id, BigInt(badge.amount)]),
      );
      expect(badges).toEqual(want.badges);
    }
  }, 180_000);

  it('rebuilds the balance cache and badge index from chain events after adapter reindex', async () => {
    // Given confirmed activities whose points and badges are in the index
    const stack = await aMirrorStack();
    const adapter = await startAdapterInProcess(stack);
    const client = adapterClient(adapter.url, await stack.token());
    const ids: string[] = [];
    for (let index = 1; index <= 12; index++) {
      const activity = nthActivity(index);
      ids.push(String((await client.track(activity.body, randomUUID())).body.id));
    }
    await waitSettled(client, ids, 30_000);
    const balanceOf = async (userId: string) => String((await client.wallet(userId)).body.balance);
    const indexed = await eventually(async () => {
      const balance = await balanceOf('user-1');
      return balance !== '0' ? balance : undefined;
    });

    // When the index is reset while the adapter runs
    const result = await reindexHoldings({ configFile: stack.config, env: stack.env, actor: 'test' });
    expect(result.balancesCleared).toBeGreaterThan(0);
    expect(result.previousCursor).toBeGreaterThan(0);

    // Then it is rebuilt from block 0 to the same balances
    expect(
      await eventually(async () => ((await balanceOf('user-1')) === indexed ? indexed : undefined)),
    ).toBe(indexed);
  }, 60_000);
});

async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
