import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { onTestFinished } from 'vitest';
import { startAnvil, type AnvilNode } from './anvil.js';
import { IbftVoting, normaliseAddress } from './ibft-voting.js';
import { freePort } from './net.js';

/**
 * A stand-in for a Besu IBFT 2.0 network, since no Besu runs on our machines: one anvil (a real
 * EVM) that makes a block only when the model says the validators would (ibft-voting.ts), and
 * per node a small JSON-RPC front that passes ordinary `eth_*` calls through to anvil and answers
 * `net_peerCount`, `admin_peers` and the IBFT 2.0 methods as that node's Besu would.
 */
export interface BesuNetworkOptions {
  chainId: number;
  /** Genesis validator addresses. */
  validators: readonly string[];
  /** Milliseconds between block attempts (default 250; Besu's would be the block period). */
  blockPeriodMs?: number;
  /** Blocks per epoch (default 30,000, as the genesis). */
  epochLength?: number;
}

/** Options of {@link BesuNetwork.startNode}. */
export interface BesuNodeOptions {
  /** Shown in admin_peers. */
  name: string;
  /** The node key's address: its votes are cast as this validator. */
  address: string;
  /** Listen on this loopback port (default: a free one). */
  port?: number;
  /** The node key's public key (128 hex): `admin_nodeInfo` answers with it; without it, that method fails. */
  publicKey?: string;
}

/** Who a node is: what its node key makes it. */
export interface FrontIdentity {
  address: string;
  publicKey?: string;
}

/** One node's JSON-RPC front. */
export interface BesuFront {
  name: string;
  /** The address of the key it runs with now. */
  readonly address: string;
  url: string;
  port: number;
  /** Every method called on this node, in order (batches flattened). */
  calls: string[];
  /** Fixes the peer count this node reports; undefined: the other running nodes. */
  setPeerCount(count: number | undefined): void;
  /** Stops the node: its port closes, it counts as offline and forgets its local proposals. */
  stop(): Promise<void>;
  /** Starts it again on the same port; with `identity`, as Besu started on another node key. */
  start(identity?: FrontIdentity): Promise<void>;
  readonly running: boolean;
}

/** A running stand-in network. */
export interface BesuNetwork {
  anvil: AnvilNode;
  voting: IbftVoting;
  nodes: BesuFront[];
  startNode(options: BesuNodeOptions): Promise<BesuFront>;
  /** Resolves once the chain head reaches `blockNumber` (rejects after `timeoutMs`, default 10 s). */
  waitForBlock(blockNumber: number, timeoutMs?: number): Promise<void>;
  /** Why the last block attempt made no block, if it did not. */
  stallReason(): string | undefined;
  /** Every block attempt that made no block (fewer than ceil(2N/3) online), in order. */
  readonly stalls: readonly StalledAttempt[];
  stop(): Promise<void>;
}

/** A block attempt that made no block. */
export interface StalledAttempt {
  /** Date.now() of the attempt. */
  at: number;
  /** The head it could not build on. */
  head: number;
  reason: string;
}

interface JsonRpcRequest {
  jsonrpc?: string;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

/**
 * Starts the stand-in network (anvil without automatic mining, and the block timer); nodes are
 * added with `startNode`. Everything stops when the current test finishes.
 * @param options - chain id, genesis validators, block period, epoch length
 */
export async function aBesuNetwork(options: BesuNetworkOptions): Promise<BesuNetwork> {
  const network = await startBesuNetwork(options);
  onTestFinished(() => network.stop());
  return network;
}

/**
 * Starts the stand-in network; call `stop()` when done.
 * @param options - chain id, genesis validators, block period, epoch length
 */
export async function startBesuNetwork(options: BesuNetworkOptions): Promise<BesuNetwork> {
  const anvil = await startAnvil({ chainId: options.chainId, noMining: true });
  const voting = new IbftVoting(options.validators, options.epochLength ?? 30_000);
  const nodes: BesuFront[] = [];
  let stall: string | undefined;
  const stalls: StalledAttempt[] = [];
  let stopped = false;
  let ticking = false;

  const tick = async (): Promise<void> => {
    if (ticking || stopped) return;
    ticking = true;
    try {
      const online = new Set(nodes.filter((node) => node.running).map((node) => node.address));
      const produced = voting.produceBlock(online);
      if ('stalled' in produced) {
        stall = produced.reason;
        stalls.push({ at: Date.now(), head: voting.head, reason: produced.reason });
        return;
      }
      stall = undefined;
      await anvilCall(anvil.url, 'evm_mine', []);
    } catch {
      // anvil stopping under a last tick: nothing to do.
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), options.blockPeriodMs ?? 250);

  const network: BesuNetwork = {
    anvil,
    voting,
    nodes,
    startNode: async (nodeOptions) => {
      const front = await startFront(nodeOptions, network);
      nodes.push(front);
      return front;
    },
    waitForBlock: async (blockNumber, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (voting.head < blockNumber) {
        if (Date.now() > deadline) {
          throw new Error(`no block ${blockNumber} within ${timeoutMs} ms (${stall ?? 'no stall'})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stallReason: () => stall,
    stalls,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await Promise.all(nodes.map((node) => node.stop()));
      await anvil.stop();
    },
  };
  return network;
}

async function startFront(options: BesuNodeOptions, network: BesuNetwork): Promise<BesuFront> {
  let address = normaliseAddress(options.address);
  let publicKey = options.publicKey?.replace(/^0x/, '').toLowerCase();
  const port = options.port ?? (await freePort());
  let server: Server | undefined;
  let peerCount: number | undefined;
  const calls: string[] = [];

  const peers = (): { name: string; address: string }[] => {
    const others = network.nodes.filter((node) => node.running && node.address !== address);
    if (peerCount === undefined) return others.map(({ name, address: peer }) => ({ name, address: peer }));
    return Array.from({ length: peerCount }, (_, index) => ({
      name: `peer-${index + 1}`,
      address: `0x${(index + 1).toString(16).padStart(40, '0')}`,
    }));
  };

  const answer = async (request: JsonRpcRequest): Promise<unknown> => {
    const method = typeof request.method === 'string' ? request.method : '';
    const params = Array.isArray(request.params) ? (request.params as unknown[]) : [];
    calls.push(method);
    const reply = (result: unknown) => ({ jsonrpc: '2.0', id: request.id ?? null, result });
    const fail = (code: number, message: string) => ({
      jsonrpc: '2.0',
      id: request.id ?? null,
      error: { code, message },
    });
    try {
      switch (method) {
        case 'net_peerCount':
          return reply(`0x${peers().length.toString(16)}`);
        case 'admin_peers':
          return reply(
            peers().map((peer) => ({
              id: peer.address,
              name: `besu/stand-in/${peer.name}`,
              enode: `enode://${peer.address.slice(2).padEnd(128, '0')}@127.0.0.1:30303`,
              network: { localAddress: '127.0.0.1:30303', remoteAddress: '127.0.0.1:30303' },
              protocols: { eth: { version: 68 } },
            })),
          );
        case 'admin_nodeInfo':
          return publicKey
            ? reply({
                id: publicKey,
                name: `besu/stand-in/${options.name}`,
                enode: `enode://${publicKey}@127.0.0.1:30303`,
                ports: { discovery: 30303, listener: 30303 },
              })
            : fail(-32601, 'Method not found');
        case 'ibft_getValidatorsByBlockNumber': {
          const head = Number(BigInt(await anvilCall<string>(network.anvil.url, 'eth_blockNumber', [])));
          const tag = params[0] ?? 'latest';
          if (tag === 'pending') return reply(network.voting.validators);
          const number =
            tag === 'earliest'
              ? 0
              : tag === 'latest' || tag === 'finalized' || tag === 'safe'
                ? head
                : Number(BigInt(String(tag)));
          const validators = number <= head ? network.voting.validatorsAt(number) : undefined;
          return validators ? reply(validators) : fail(-32000, 'Block not found');
        }
        case 'ibft_getValidatorsByBlockHash': {
          const block = await anvilCall<{ number: string } | null>(network.anvil.url, 'eth_getBlockByHash', [
            params[0],
            false,
          ]);
          const validators = block ? network.voting.validatorsAt(Number(BigInt(block.number))) : undefined;
          return validators ? reply(validators) : fail(-32000, 'Block not found');
        }
        case 'ibft_proposeValidatorVote':
          network.voting.propose(address, String(params[0]), params[1] === true);
          return reply(true);
        case 'ibft_discardValidatorVote':
          network.voting.discard(address, String(params[0]));
          return reply(true);
        case 'ibft_getPendingVotes':
          return reply(network.voting.pendingVotes(address));
        default:
          return await anvilRaw(network.anvil.url, request);
      }
    } catch (error) {
      return fail(-32602, error instanceof Error ? error.message : String(error));
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }),
          );
          return;
        }
        const result = Array.isArray(body)
          ? await Promise.all(body.map((item) => answer(item as JsonRpcRequest)))
          : await answer(body as JsonRpcRequest);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(result));
      })();
    });
  };

  const listen = async (): Promise<void> => {
    const started = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      started.once('error', reject);
      started.listen(port, '127.0.0.1', () => resolve());
    });
    server = started;
  };
  await listen();

  return {
    name: options.name,
    get address() {
      return address;
    },
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    setPeerCount: (count) => {
      peerCount = count;
    },
    get running() {
      return server !== undefined;
    },
    stop: async () => {
      const current = server;
      if (!current) return;
      server = undefined;
      network.voting.forgetProposals(address);
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    start: async (identity) => {
      if (server) return;
      if (identity) {
        address = normaliseAddress(identity.address);
        publicKey = identity.publicKey?.replace(/^0x/, '').toLowerCase();
      }
      await listen();
    },
  };
}

async function anvilRaw(url: string, request: JsonRpcRequest): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: request.id ?? null,
      method: request.method,
      params: request.params ?? [],
    }),
  });
  return response.json();
}

async function anvilCall<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const body = (await anvilRaw(url, { id: 1, method, params })) as {
    result?: T;
    error?: { message: string };
  };
  if (body.error) throw new Error(body.error.message);
  return body.result as T;
}
