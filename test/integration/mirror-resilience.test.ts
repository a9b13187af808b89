import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { adapterClient, lessonActivity, readChainRecord, waitSettled } from '../support/mirror-client.js';
import {
  aMirrorStack,
  startAdapterInProcess,
  startAdapterProcess,
  type MirrorStack,
} from '../support/mirror-stack.js';

// What must hold when things break: every accepted activity on-chain exactly once, checked
// against the chain's events.

/** Every activity the database holds, with its on-chain reference. */
function storedActivities(stack: MirrorStack): { id: string; activity_ref: string; status: string }[] {
  const db = new Database(join(stack.dir, 'service/adapter.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, activity_ref, status FROM activities').all() as never;
  } finally {
    db.close();
  }
}

describe('mirror under failure', () => {
  it('after repeated kill -9 while mirroring, puts every accepted activity on-chain exactly once', async () => {
    // Given a local chain and the adapter as its own process (as a service machine runs it)
    const stack = await aMirrorStack({
      mirror: { batchMaxSize: 40, maxEntriesPerTx: 15, batchIntervalMs: 100 },
    });
    const accepted = new Set<string>();
    let sent = 0;
    // When it is killed with SIGKILL five times while activities arrive and batches go out
    for (let round = 0; round < 5; round++) {
      const adapter = await startAdapterProcess(stack);
      const client = adapterClient(adapter.url, await stack.token());
      const sending = Promise.all(
        Array.from({ length: 8 }, async () => {
          for (;;) {
            const index = sent++;
            const answer = await client.track(lessonActivity(index), randomUUID()).catch(() => undefined);
            if (!answer) return; // the process died under it: not accepted
            if (answer.status === 202) accepted.add(String(answer.body.id));
          }
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 700 + round * 350));
      adapter.process.kill('SIGKILL');
      await adapter.process;
      await sending;
    }
    expect(accepted.size).toBeGreaterThan(100);

    // Then, once it runs again, every accepted activity is confirmed
    const adapter = await startAdapterProcess(stack);
    const client = adapterClient(adapter.url, await stack.token());
    const settled = await waitSettled(client, [...accepted], 120_000);
    expect([...settled.values()].filter((activity) => activity.status !== 'confirmed')).toEqual([]);
    expect(settled.size).toBe(accepted.size);

    // And on-chain each one was paid exactly once, and nothing else was: every payment on the chain
    // belongs to an activity the database holds (some were stored but their answer was cut off)
    await waitSettled(
      client,
      storedActivities(stack).map((row) => row.id),
      60_000,
    );
    const chain = await readChainRecord(stack.chain.url, stack.contracts);
    expect(chain.duplicateMints).toEqual([]);
    const stored = storedActivities(stack);
    const refs = new Map(stored.map((row) => [row.id, row.activity_ref]));
    for (const id of accepted) expect(chain.mints.has(refs.get(id)!)).toBe(true);
    expect(chain.mints.size).toBe(stored.length);
    expect([...chain.anchors.values()].reduce((sum, count) => sum + count, 0)).toBe(stored.length);
  }, 300_000);

  it('keeps taking activities while the chain node is down and drains the queue once it is back', async () => {
    // Given a running adapter mirroring a steady stream of activities
    const stack = await aMirrorStack({
      mirror: {
        batchMaxSize: 50,
        batchIntervalMs: 100,
        rebroadcastAfterMs: 2_000,
        retry: { baseDelayMs: 200, maxDelayMs: 1_000 },
      },
    });
    const adapter = await startAdapterInProcess(stack);
    const client = adapterClient(adapter.url, await stack.token());
    const ids: string[] = [];
    const send = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const answer = await client.track(lessonActivity(ids.length), randomUUID());
        expect(answer.status).toBe(202);
        ids.push(String(answer.body.id));
      }
    };
    await send(60);
    // When the chain node stops for a while, under load
    await stack.stopChain();
    await send(150);
    const ready = await client.call('GET', '/ready');
    expect(ready.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // (activities sent during the outage cannot be confirmed yet)
    const settledDuringOutage = await waitSettled(client, ids, 0);
    expect(ids.slice(60).some((id) => !settledDuringOutage.has(id))).toBe(true);
    expect(ids.slice(60).every((id) => !settledDuringOutage.has(id))).toBe(true);
    // And comes back
    await stack.restartChain();
    await send(40);

    // Then everything accepted before, during and after the outage is confirmed, once
    const settled = await waitSettled(client, ids, 90_000);
    expect([...settled.values()].filter((activity) => activity.status !== 'confirmed')).toEqual([]);
    const chain = await readChainRecord(stack.chain.url, stack.contracts);
    expect(chain.duplicateMints).toEqual([]);
    expect(chain.mints.size).toBe(ids.length);
    expect([...chain.anchors.values()].reduce((sum, count) => sum + count, 0)).toBe(ids.length);
  }, 240_000);
});
