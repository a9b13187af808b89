/**
 * Node.js options every launcher of the adapter daemon sets (the local stack of `up`, the systemd
 * unit and the container of `deploy`), through NODE_OPTIONS so that any `node` wrapper keeps them.
 *
 * Why: under load V8 lets its heap grow with the allocation rate, far beyond what the daemon keeps
 * alive (bench/RESULTS.md: 40 to 90 MB live, up to 250 MB of heap without a limit). A 128 MB old
 * generation and 8 MB semi-spaces keep the process within the memory target at a few per cent of
 * throughput. What the worker holds is bounded by mirror.batchMaxSize × maxBatchesInFlight; an
 * operator who raises those far should raise this limit too (the unit's Environment line, or
 * NODE_OPTIONS in the container).
 */
export const ADAPTER_NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=8';

/**
 * NODE_OPTIONS for the adapter: the daemon's own options, then whatever the environment already
 * holds, so that an operator's setting of the same option wins (Node takes the last one).
 * @param inherited - the NODE_OPTIONS of the launching environment
 */
export function adapterNodeOptions(inherited: string | undefined): string {
  return inherited?.trim() ? `${ADAPTER_NODE_OPTIONS} ${inherited.trim()}` : ADAPTER_NODE_OPTIONS;
}
