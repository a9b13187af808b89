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

/** A JSON-RPC error object, as a node returns it. */
export class JsonRpcError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
  }
}

/** Receipts asked for in one JSON-RPC batch request. */
export const RECEIPTS_PER_REQUEST = 8;

/**
 * The worker's chain connection: plain JSON-RPC over fetch, several calls in one batch request
 * where the worker asks for many things at once (receipts). Not ethers' JsonRpcProvider: its
 * JavaScript UTF-8 codec was the largest CPU cost of the whole daemon under load (measured: more
 * than a third of a core at 3,000 activities/s, on 40 kB transactions and large log answers), where
 * fetch and JSON.parse decode natively.
 * @param url - the node's JSON-RPC endpoint (credentials in the URL are sent as basic auth)
 * @param timeoutMs - per request
 * @returns the connection
 */
export function jsonRpcMirrorChain(url: string, timeoutMs = 10_000): MirrorChain {
  const endpoint = new URL(url);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (endpoint.username || endpoint.password) {
    const credentials = `${decodeURIComponent(endpoint.username)}:${decodeURIComponent(endpoint.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    endpoint.username = '';
    endpoint.password = '';
  }
  let nextId = 1;
  const post = async (body: unknown): Promise<unknown> => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`server response ${response.status} ${response.statusText}`);
    return response.json();
  };
  const unwrap = <T>(answer: { result?: unknown; error?: { message?: string; code?: number } }): T => {
    if (answer.error) throw new JsonRpcError(answer.error.message ?? 'JSON-RPC error', answer.error.code);
    return answer.result as T;
  };
  const call = async <T>(method: string, params: unknown[]): Promise<T> =>
    unwrap<T>((await post({ jsonrpc: '2.0', id: nextId++, method, params })) as { result?: unknown });
  const callMany = async <T>(method: string, paramsList: unknown[][]): Promise<T[]> => {
    if (paramsList.length === 0) return [];
    const first = nextId;
    nextId += paramsList.length;
    const answers = (await post(
      paramsList.map((params, index) => ({ jsonrpc: '2.0', id: first + index, method, params })),
    )) as { id: number; result?: unknown; error?: { message?: string; code?: number } }[];
    if (!Array.isArray(answers)) throw new Error('the node did not answer the batch request with a batch');
    const byId = new Map(answers.map((answer) => [answer.id, answer]));
    return paramsList.map((_, index) => {
      const answer = byId.get(first + index);
      if (!answer) throw new Error(`the node left call ${index + 1} of a batch unanswered`);
      return unwrap<T>(answer);
    });
  };
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
      const receipts = new Map<string, ChainReceipt | null>();
      // A receipt carries all its logs, which cannot be left out: a full mint's is ≈ 250 kB.
      // Asked for in small groups, one after the other, the answer the daemon holds at once stays
      // small (a round's receipts in one answer came to 26 MB, the daemon's largest memory peak).
      for (let start = 0; start < hashes.length; start += RECEIPTS_PER_REQUEST) {
        const group = hashes.slice(start, start + RECEIPTS_PER_REQUEST);
        const answers = await callMany<{ status: string; blockNumber: string; gasUsed: string } | null>(
          'eth_getTransactionReceipt',
          group.map((hash) => [hash]),
        );
        group.forEach((hash, index) => {
          const receipt = answers[index];
          receipts.set(
            hash,
            receipt
              ? {
                  status: Number(receipt.status) === 1 ? 'success' : 'reverted',
                  blockNumber: Number(receipt.blockNumber),
                  gasUsed: BigInt(receipt.gasUsed),
                }
              : null,
          );
        });
      }
      return receipts;
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
    close: () => {},
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
