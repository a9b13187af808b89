import type { JsonRpcProvider } from 'ethers';
import { connectRpc, rpcFailure } from '../../io/rpc.js';

/** What a readiness check learnt about the chain. */
export interface ChainStatus {
  ok: boolean;
  chainId?: number;
  blockNumber?: number;
  /** Why it is not ok (no secrets: the URL is shown without credentials). */
  error?: string;
}

/** Asks the chain whether it is reachable and the right one; never throws. */
export type ChainProbe = () => Promise<ChainStatus>;

/** A probe with a connection to release at shutdown. */
export interface RpcChainProbe {
  probe: ChainProbe;
  close(): void;
}

/**
 * A chain probe over the node's JSON-RPC: connects on first use (and again after a failure),
 * checks the chain id against the configured one and reads the block height.
 * @param options - RPC URL, the chain id it must report, and a time limit per call
 * @returns the probe and its close function
 */
export function rpcChainProbe(options: {
  rpcUrl: string;
  chainId: number;
  timeoutMs?: number;
}): RpcChainProbe {
  let provider: Promise<JsonRpcProvider> | undefined;
  const reset = () => {
    void provider?.then((p) => p.destroy()).catch(() => undefined);
    provider = undefined;
  };
  const probe: ChainProbe = async () => {
    try {
      provider ??= connectRpc(options.rpcUrl, { timeoutMs: options.timeoutMs ?? 3_000 });
      const connected = await provider;
      const chainId = Number((await connected.getNetwork()).chainId);
      if (chainId !== options.chainId) {
        reset();
        return {
          ok: false,
          chainId,
          error: `chain id ${chainId}, but the configuration says ${options.chainId}`,
        };
      }
      const blockNumber = await connected.getBlockNumber();
      return { ok: true, chainId, blockNumber };
    } catch (error) {
      reset();
      return { ok: false, error: rpcFailure(options.rpcUrl, 'read the block number', error).message };
    }
  };
  return {
    probe,
    close: reset,
  };
}
