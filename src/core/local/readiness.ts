import { InterruptedError } from '../errors.js';

/** How a wait ended: the probe's answer, the time limit, or the process exiting first. */
export type WaitOutcome<T> =
  { kind: 'ready'; value: T } | { kind: 'timeout' } | { kind: 'exited'; code: number | string };

/** Options of {@link waitUntilReady}. */
export interface WaitOptions {
  timeoutMs: number;
  /** Pause between probes (default 100 ms). */
  intervalMs?: number;
  /** Aborts the wait with an InterruptedError. */
  signal?: AbortSignal;
  /** The process being waited for: its exit ends the wait at once. */
  exited?: Promise<number | string>;
}

/**
 * Probes until the probe answers, the time is up, the watched process exits or the signal aborts.
 * @param probe - resolves with a value when ready, undefined when not yet (must not throw)
 * @param options - limit, interval, signal, exit of the watched process
 * @returns how the wait ended
 * @throws InterruptedError when the signal aborts
 */
export async function waitUntilReady<T>(
  probe: () => Promise<T | undefined>,
  options: WaitOptions,
): Promise<WaitOutcome<T>> {
  const deadline = Date.now() + options.timeoutMs;
  let exitCode: number | string | undefined;
  void options.exited?.then((code) => (exitCode = code));
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError('Interrupted while waiting for the local stack');
    const value = await probe();
    if (value !== undefined) return { kind: 'ready', value };
    if (exitCode !== undefined) return { kind: 'exited', code: exitCode };
    if (Date.now() >= deadline) return { kind: 'timeout' };
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** What a JSON-RPC node says about itself. */
export interface ChainStatus {
  chainId: number;
  blockNumber: number;
}

/**
 * Asks a JSON-RPC endpoint for its chain id and block height.
 * @param url - the endpoint
 * @returns both, or undefined when it does not answer (yet)
 */
export async function probeChain(url: string): Promise<ChainStatus | undefined> {
  const [chainId, blockNumber] = await Promise.all([
    callRpc(url, 'eth_chainId', []),
    callRpc(url, 'eth_blockNumber', []),
  ]);
  if (typeof chainId !== 'string' || typeof blockNumber !== 'string') return undefined;
  return { chainId: Number(chainId), blockNumber: Number(blockNumber) };
}

/**
 * One JSON-RPC call with a short time limit, for probes.
 * @param url - the endpoint
 * @param method - e.g. eth_getCode
 * @param params - its parameters
 * @returns the result, or undefined when the endpoint does not answer or answers with an error
 */
export async function callRpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(2_000),
    });
    const answer = (await response.json()) as { result?: unknown };
    return answer.result ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks an HTTP endpoint for its status code (GET, no redirects followed).
 * @param url - the URL
 * @param headers - request headers
 * @returns the status code, or undefined when nothing answers
 */
export async function probeHttp(
  url: string,
  headers: Record<string, string> = {},
): Promise<number | undefined> {
  try {
    const response = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}
