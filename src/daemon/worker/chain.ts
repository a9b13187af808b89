import { FetchRequest, JsonRpcProvider, Network } from 'ethers';

/** How a node answered a broadcast. */
export type BroadcastOutcome =
  /** Accepted now. */
  | { kind: 'accepted' }
  /**
   * The node knows it already, or says its nonce is used: with the hash stored, it counts as sent;
   * the receipt tracker then finds out whether it was this transaction that used the nonce.
   */
  | { kind: 'known'; message: string }
  /** Not accepted this time (node down, pool full, a nonce gap): broadcast again later. */
  | { kind: 'transient'; message: string }
  /** The node will never take it as signed (gas above the block limit, malformed...). */
  | { kind: 'rejected'; message: string };

export interface ChainReceipt {
  status: 'success' | 'reverted';
  blockNumber: number;
  gasUsed: bigint;
}

export interface ChainLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
}

/** The JSON-RPC calls the worker and the indexer make; tests may pass another implementation. */
export interface MirrorChain {
  chainId(): Promise<number>;
  blockNumber(): Promise<number>;
  /** Transactions of `address` mined so far (`latest`): the next nonce the chain expects. */
  minedNonce(address: string): Promise<number>;
  broadcast(rawTx: string): Promise<BroadcastOutcome>;
  /** Whether the node knows the transaction (in its pool or mined). */
  knows(hash: string): Promise<boolean>;
  /** Receipts by hash; a transaction not (yet) mined maps to null. */
  receipts(hashes: readonly string[]): Promise<Map<string, ChainReceipt | null>>;
  logs(filter: {
    addresses: string[];
    fromBlock: number;
    toBlock: number;
    topics: string[];
  }): Promise<ChainLog[]>;
  blockHash(blockNumber: number): Promise<string | null>;
  close(): void;
}

const KNOWN =
  /already known|known transaction|already imported|already in (the )?pool|nonce too low|nonce is too low|lower than (the )?(current|account) nonce/i;
const TRANSIENT =
  /nonce too high|too far in (the )?future|pool (is )?full|txpool|underpriced|replacement|timeout|timed out|ECONN|ENOTFOUND|EHOSTUNREACH|EPIPE|socket|fetch failed|network|server response 5\d\d|bad gateway|service unavailable|rate limit|busy/i;

/**
 * Sorts a node's refusal of `eth_sendRawTransaction` by what the outbox should do about it.
 * Messages differ between clients (geth/anvil "already known", "nonce too low"; Besu "Known
 * transaction", "Nonce too low"); anything unrecognised that is not a connection problem counts
 * as a rejection, so the outbox never loops on a transaction the node will not take.
 * @param message - the node's error message, or the transport error's
 * @returns the outcome
 */
export function classifyBroadcastError(message: string): BroadcastOutcome {
  if (KNOWN.test(message)) return { kind: 'known', message };
  if (TRANSIENT.test(message)) return { kind: 'transient', message };
  return { kind: 'rejected', message };
}

/**
 * The worker's chain connection over ethers' JsonRpcProvider: requests made together go out as one
 * JSON-RPC batch (receipts of a whole batch in one round trip); nothing is cached.
 * @param url - the node's JSON-RPC endpoint
 * @param chainId - the network's chain id (never re-detected)
 * @param timeoutMs - per request
 * @returns the connection
 */
export function jsonRpcMirrorChain(url: string, chainId: number, timeoutMs = 10_000): MirrorChain {
  const request = new FetchRequest(url);
  request.timeout = timeoutMs;
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(request, network, { staticNetwork: network, cacheTimeout: -1 });
  const call = <T>(method: string, params: unknown[]) => provider.send(method, params) as Promise<T>;
  return {
    chainId: async () => Number(await call<string>('eth_chainId', [])),
    blockNumber: async () => Number(await call<string>('eth_blockNumber', [])),
    minedNonce: async (address) => Number(await call<string>('eth_getTransactionCount', [address, 'latest'])),
    async broadcast(rawTx) {
      try {
        await call('eth_sendRawTransaction', [rawTx]);
        return { kind: 'accepted' };
      } catch (error) {
        return classifyBroadcastError(errorMessage(error));
      }
    },
    knows: async (hash) => (await call<unknown>('eth_getTransactionByHash', [hash])) !== null,
    async receipts(hashes) {
      const answers = await Promise.all(
        hashes.map((hash) =>
          call<{ status: string; blockNumber: string; gasUsed: string } | null>('eth_getTransactionReceipt', [
            hash,
          ]),
        ),
      );
      return new Map(
        hashes.map((hash, index) => {
          const receipt = answers[index];
          return [
            hash,
            receipt
              ? {
                  status: Number(receipt.status) === 1 ? 'success' : 'reverted',
                  blockNumber: Number(receipt.blockNumber),
                  gasUsed: BigInt(receipt.gasUsed),
                }
              : null,
          ] as const;
        }),
      );
    },
    async logs(filter) {
      const logs = await call<
        {
          address: string;
          topics: string[];
          data: string;
          blockNumber: string;
          logIndex: string;
          transactionHash: string;
        }[]
      >('eth_getLogs', [
        {
          address: filter.addresses,
          fromBlock: `0x${filter.fromBlock.toString(16)}`,
          toBlock: `0x${filter.toBlock.toString(16)}`,
          topics: [filter.topics],
        },
      ]);
      return logs.map((log) => ({
        address: log.address.toLowerCase(),
        topics: log.topics,
        data: log.data,
        blockNumber: Number(log.blockNumber),
        logIndex: Number(log.logIndex),
        transactionHash: log.transactionHash,
      }));
    },
    async blockHash(blockNumber) {
      const block = await call<{ hash: string } | null>('eth_getBlockByNumber', [
        `0x${blockNumber.toString(16)}`,
        false,
      ]);
      return block?.hash ?? null;
    },
    close: () => provider.destroy(),
  };
}

/** The innermost message of an ethers or transport error (the node's own words when it answered). */
export function errorMessage(error: unknown): string {
  const candidate = error as {
    error?: { message?: string };
    info?: { error?: { message?: string } };
    shortMessage?: string;
    message?: string;
    code?: string;
  };
  return (
    candidate?.error?.message ??
    candidate?.info?.error?.message ??
    candidate?.shortMessage ??
    candidate?.message ??
    String(error)
  );
}
