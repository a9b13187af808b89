import { describe, expect, it } from 'vitest';
import { rpcRequest } from '../../src/io/rpc.js';
import { aBesuNetwork } from '../support/besu-front.js';

const A = '0x' + '1'.repeat(40);
const B = '0x' + '2'.repeat(40);
const C = '0x' + '3'.repeat(40);
const NEW = '0x' + 'a'.repeat(40);

// The stand-in's JSON-RPC over HTTP: what deploy, status and rotate-key call on each node.
describe('besu-front: a Besu IBFT 2.0 stand-in over anvil', () => {
  it('votes a validator in through the nodes that proposed it, as Besu would', async () => {
    // Given three validators, each with its node's front
    const network = await aBesuNetwork({ chainId: 4242, validators: [A, B, C], blockPeriodMs: 50 });
    const [a, b] = [
      await network.startNode({ name: 'a', address: A }),
      await network.startNode({ name: 'b', address: B }),
    ];
    await network.startNode({ name: 'c', address: C });
    await network.waitForBlock(1);

    // Then ordinary calls pass through to the EVM and the IBFT view is Besu's
    expect(await rpcRequest<string>(a.url, 'eth_chainId')).toBe('0x1092');
    expect(await rpcRequest<string>(a.url, 'net_peerCount')).toBe('0x2');
    expect(await rpcRequest<unknown[]>(b.url, 'admin_peers')).toHaveLength(2);
    expect(await rpcRequest<string[]>(a.url, 'ibft_getValidatorsByBlockNumber', ['latest'])).toEqual([
      A,
      B,
      C,
    ]);

    // When two of the three nodes propose the new validator (more than half of N = 3)
    expect(await rpcRequest<boolean>(a.url, 'ibft_proposeValidatorVote', [NEW, true])).toBe(true);
    expect(await rpcRequest<boolean>(b.url, 'ibft_proposeValidatorVote', [NEW, true])).toBe(true);
    // Then the proposals are each node's own
    expect(await rpcRequest(a.url, 'ibft_getPendingVotes')).toEqual({ [NEW]: true });
    expect(await rpcRequest(network.nodes[2]!.url, 'ibft_getPendingVotes')).toEqual({});

    // And once both proposed a block, the set changes from the next block on
    const deadline = Date.now() + 10_000;
    let latest: string[] = [];
    while (Date.now() < deadline) {
      latest = await rpcRequest<string[]>(a.url, 'ibft_getValidatorsByBlockNumber', ['latest']);
      if (latest.includes(NEW)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(latest).toEqual([A, B, C, NEW]);
    const changedAt = network.voting.head;
    expect(await rpcRequest<string[]>(a.url, 'ibft_getValidatorsByBlockNumber', ['0x0'])).toEqual([A, B, C]);
    const block = await rpcRequest<{ hash: string }>(a.url, 'eth_getBlockByNumber', [
      `0x${changedAt.toString(16)}`,
      false,
    ]);
    expect(await rpcRequest<string[]>(b.url, 'ibft_getValidatorsByBlockHash', [block.hash])).toEqual([
      A,
      B,
      C,
      NEW,
    ]);

    // And with four validators of which one (NEW) never runs, 3 of 4 are still a quorum
    await network.waitForBlock(changedAt + 2);
    // but once a second node stops, the chain stalls, as IBFT 2.0 does below ceil(2N/3)
    await b.stop();
    const stalledAt = network.voting.head;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(network.voting.head).toBe(stalledAt);
    expect(network.stallReason()).toBe('2 of 4 validators online, 3 needed (ceil(2N/3))');
    expect(network.stalls.at(-1)).toMatchObject({
      head: stalledAt,
      reason: '2 of 4 validators online, 3 needed (ceil(2N/3))',
    });
    await expect(rpcRequest(b.url, 'eth_blockNumber', [], { timeoutMs: 1_000 })).rejects.toThrow();
  });

  it('reports a configured peer count and discards a vote on request', async () => {
    const network = await aBesuNetwork({ chainId: 4242, validators: [A], blockPeriodMs: 50 });
    const a = await network.startNode({ name: 'a', address: A });
    a.setPeerCount(0);
    expect(await rpcRequest<string>(a.url, 'net_peerCount')).toBe('0x0');
    await rpcRequest(a.url, 'ibft_proposeValidatorVote', [B, true]);
    await rpcRequest(a.url, 'ibft_discardValidatorVote', [B]);
    expect(await rpcRequest(a.url, 'ibft_getPendingVotes')).toEqual({});
  });
});
