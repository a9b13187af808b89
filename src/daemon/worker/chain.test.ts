import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RECEIPTS_PER_REQUEST, classifyBroadcastError, jsonRpcMirrorChain } from './chain.js';

describe('classifyBroadcastError', () => {
  it.each([
    ['already known', 'known'],
    ['Known transaction', 'known'], // Besu
    ['nonce too low', 'known'],
    ['Nonce too low', 'known'], // Besu
    ['transaction already imported', 'known'],
    ['nonce too high', 'transient'],
    ['Transaction pool is full', 'transient'],
    ['request timeout (code=TIMEOUT)', 'transient'],
    ['connect ECONNREFUSED 127.0.0.1:8545', 'transient'],
    ['fetch failed', 'transient'],
    ['intrinsic gas too low', 'rejected'],
    ['exceeds block gas limit', 'rejected'],
    ['Invalid signature', 'rejected'],
  ])('%s → %s', (message, kind) => {
    expect(classifyBroadcastError(message).kind).toBe(kind);
  });
});

describe('jsonRpcMirrorChain receipts', () => {
  /** A JSON-RPC node on a loopback port that answers receipt batches in reverse order. */
  async function aReceiptNode(mined: Map<string, { status: string; blockNumber: string }>) {
    const batchSizes: number[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const calls = JSON.parse(body) as { id: number; params: [string] }[];
        batchSizes.push(calls.length);
        const answers = calls
          .map((call) => {
            const receipt = mined.get(call.params[0]);
            return {
              jsonrpc: '2.0',
              id: call.id,
              result: receipt ? { ...receipt, gasUsed: '0x5208', logs: [] } : null,
            };
          })
          .reverse();
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(answers));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, batchSizes, close: () => server.close() };
  }

  it(`asks in batches of at most ${RECEIPTS_PER_REQUEST} and maps each answer to its hash`, async () => {
    const hashes = Array.from(
      { length: 2 * RECEIPTS_PER_REQUEST + 3 },
      (_, index) => `0x${index.toString(16).padStart(64, '0')}`,
    );
    const mined = new Map(
      hashes
        .filter((_, index) => index % 3 !== 0)
        .map((hash, index) => [
          hash,
          { status: index % 5 === 0 ? '0x0' : '0x1', blockNumber: `0x${(index + 10).toString(16)}` },
        ]),
    );
    const node = await aReceiptNode(mined);
    try {
      const receipts = await jsonRpcMirrorChain(node.url).receipts(hashes);
      expect(node.batchSizes).toEqual([RECEIPTS_PER_REQUEST, RECEIPTS_PER_REQUEST, 3]);
      expect([...receipts.keys()]).toEqual(hashes);
      for (const hash of hashes) {
        const expected = mined.get(hash);
        expect(receipts.get(hash)).toEqual(
          expected
            ? {
                status: expected.status === '0x1' ? 'success' : 'reverted',
                blockNumber: Number(expected.blockNumber),
                gasUsed: 21_000n,
              }
            : null,
        );
      }
    } finally {
      node.close();
    }
  });

  it('sends no request for no hashes', async () => {
    const node = await aReceiptNode(new Map());
    try {
      expect((await jsonRpcMirrorChain(node.url).receipts([])).size).toBe(0);
      expect(node.batchSizes).toEqual([]);
    } finally {
      node.close();
    }
  });
});
