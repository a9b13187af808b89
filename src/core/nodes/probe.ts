/** What a node answers about itself over JSON-RPC; null where it did not answer. */
export interface NodeProbe {
  blockNumber: number | null;
  peers: number | null;
  /** The validators of the latest block, ascending and lower-case (validators only; null otherwise). */
  validators: string[] | null;
  /** Why a question went unanswered, if one did. */
  error: string | undefined;
}

/** Options of {@link probeNode}. */
export interface ProbeNodeOptions {
  /** Ask for the validator set (`ibft_getValidatorsByBlockNumber`; needs the IBFT API). */
  validators: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Asks a Besu node for its block height, peer count and (for validators) the validator set, in
 * parallel; never throws for an unanswered question, so a status table can show what it got.
 * @param url - the node's JSON-RPC (a forwarded loopback URL)
 * @param options - whether to ask for validators, limits
 * @returns the answers
 * @example
 * const probe = await probeNode(forward.url, { validators: true });
 * if (probe.blockNumber === null) console.log(probe.error);
 */
export async function probeNode(url: string, options: ProbeNodeOptions): Promise<NodeProbe> {
  const { rpcRequest } = await import('../../io/rpc.js');
  const request = {
    timeoutMs: options.timeoutMs ?? 5_000,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const errors: string[] = [];
  const ask = <T>(method: string, params: unknown[]): Promise<T | null> =>
    rpcRequest<T>(url, method, params, request).catch((error: unknown) => {
      errors.push(error instanceof Error ? error.message : String(error));
      return null;
    });
  const [block, peers, validators] = await Promise.all([
    ask<string>('eth_blockNumber', []),
    ask<string>('net_peerCount', []),
    options.validators ? ask<string[]>('ibft_getValidatorsByBlockNumber', ['latest']) : Promise.resolve(null),
  ]);
  return {
    blockNumber: parseQuantity(block),
    peers: parseQuantity(peers),
    validators: Array.isArray(validators)
      ? validators.map((address) => String(address).toLowerCase()).sort()
      : null,
    error: errors.length > 0 ? [...new Set(errors)].join('; ') : undefined,
  };
}

function parseQuantity(value: string | null): number | null {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]+$/.test(value)) return null;
  return Number(BigInt(value));
}
