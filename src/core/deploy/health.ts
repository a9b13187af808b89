import { ErrorCodes, InterruptedError, RemoteError } from '../errors.js';
import { probeNode, type NodeProbe } from '../nodes/probe.js';
import { lastLogLines, type RuntimeAccess } from './runtime.js';
import { machineName, type AdapterTarget } from './targets.js';

/** One node the health gate watches. */
export interface WatchedNode {
  name: string;
  /** `host` or `host:port` of its machine, for the error. */
  machine: string;
  /** Its JSON-RPC as reachable from here (a forwarded loopback URL). */
  url: string;
  validator: boolean;
  /** Its last log lines, read only when it fails the gate. */
  logs: () => Promise<string[]>;
}

/** Options of {@link waitUntilHealthy}. */
export interface HealthGateOptions {
  nodes: readonly WatchedNode[];
  /** The spec's validator addresses. */
  expectedValidators: readonly string[];
  /** How long to wait in all (default 180 s). */
  timeoutMs?: number;
  /** Time between probes (default 1 s). */
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

/** What the gate saw when every node passed. */
export interface HealthGateResult {
  blockNumber: number;
  validators: string[];
}

/**
 * Waits until every node makes progress (its block height rises after the first probe), has a
 * peer (when the network has more than one node) and, for validators, reports the spec's
 * validator set for its latest block. Bounded: after the limit it fails, naming the first node
 * that did not pass, why, and its last log lines.
 * @param options - nodes, expected validators, limits
 * @returns the height and validator set seen last
 * @throws RemoteError (PC_NODE_UNHEALTHY) naming the node, with reasons and log lines in the details;
 *   InterruptedError when the signal aborts
 */
export async function waitUntilHealthy(options: HealthGateOptions): Promise<HealthGateResult> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const pollMs = options.pollIntervalMs ?? 1_000;
  const expected = options.expectedValidators.map((address) => address.toLowerCase()).sort();
  const minPeers = options.nodes.length > 1 ? 1 : 0;
  const firstHeight = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  let problems = new Map<string, string>();
  let last: NodeProbe | undefined;
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError('Interrupted while waiting for the nodes');
    problems = new Map();
    const probes = await Promise.all(
      options.nodes.map(async (node) => {
        const probe = await probeNode(node.url, {
          validators: node.validator,
          timeoutMs: Math.min(5_000, Math.max(1_000, pollMs * 5)),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        return { node, probe };
      }),
    );
    for (const { node, probe } of probes) {
      const reason = judge(node, probe, firstHeight, minPeers, expected);
      if (reason) problems.set(node.name, reason);
      else last = probe;
    }
    if (problems.size === 0 && last) {
      return { blockNumber: last.blockNumber ?? 0, validators: expected };
    }
    if (Date.now() + pollMs > deadline) break;
    await sleep(pollMs, options.signal);
  }
  const [firstName, firstReason] = [...problems.entries()][0]!;
  const failing = options.nodes.find((node) => node.name === firstName)!;
  const logs = await failing.logs();
  throw new RemoteError(
    ErrorCodes.NODE_UNHEALTHY,
    `Node ${firstName} on ${failing.machine} is not healthy after ${Math.round(timeoutMs / 1000)} s: ${firstReason}`,
    {
      host: failing.machine,
      command: 'health gate',
      hint: `Look at the log lines of ${firstName} below; \`peruri-chain status\` shows every node. Re-running deploy resumes here.`,
      details: [
        ...[...problems.entries()].map(([name, reason]) => `${name}: ${reason}`),
        `last log lines of ${firstName}:`,
        ...logs.map((line) => `  ${line}`),
      ],
    },
  );
}

function judge(
  node: WatchedNode,
  probe: NodeProbe,
  firstHeight: Map<string, number>,
  minPeers: number,
  expected: string[],
): string | undefined {
  if (probe.blockNumber === null) return `no answer over JSON-RPC (${probe.error ?? 'no block number'})`;
  const first = firstHeight.get(node.name);
  if (first === undefined) firstHeight.set(node.name, probe.blockNumber);
  const reasons: string[] = [];
  if (first === undefined || probe.blockNumber <= first)
    reasons.push(`blocks do not advance (height ${probe.blockNumber})`);
  if (probe.peers === null || probe.peers < minPeers) reasons.push(`${probe.peers ?? 'unknown'} peers`);
  if (node.validator) {
    const seen = probe.validators;
    if (seen === null)
      reasons.push(`no validator set (${probe.error ?? 'ibft_getValidatorsByBlockNumber failed'})`);
    else if (seen.join() !== expected.join()) {
      reasons.push(
        `validators on-chain [${seen.join(', ')}] differ from the spec's [${expected.join(', ')}]`,
      );
    }
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Options of {@link waitForAdapterHealth}. */
export interface AdapterHealthOptions {
  timeoutMs: number;
  pollMs: number;
  signal?: AbortSignal;
  /** The error's message, given the last reason /health did not answer 200. */
  message: (reason: string) => string;
  hint: string;
}

/**
 * Waits until the adapter answers GET /health on its machine (through an SSH forward), polling.
 * @param access - the service machine
 * @param target - the adapter's deploy target
 * @param options - timing and the error's wording
 * @throws RemoteError (PC_NODE_UNHEALTHY) with the adapter's last log lines when it does not
 */
export async function waitForAdapterHealth(
  access: RuntimeAccess,
  target: AdapterTarget,
  options: AdapterHealthOptions,
): Promise<void> {
  const forward = await access.machine.forwardTcp(target.http.host, target.http.port);
  const deadline = Date.now() + options.timeoutMs;
  let reason = 'no answer';
  try {
    for (;;) {
      try {
        const response = await fetch(`${forward.url}/health`, { signal: AbortSignal.timeout(5_000) });
        if (response.ok) return;
        reason = `GET /health answered ${response.status}`;
      } catch (error) {
        reason = `GET /health: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (options.signal?.aborted || Date.now() + options.pollMs > deadline) break;
      await new Promise((done) => setTimeout(done, options.pollMs));
    }
  } finally {
    await forward.close();
  }
  const logs = await lastLogLines(access, target.runtime);
  throw new RemoteError(ErrorCodes.NODE_UNHEALTHY, options.message(reason), {
    host: machineName(target.machine),
    command: 'GET /health',
    hint: options.hint,
    details: ['last log lines of the adapter:', ...logs.map((line) => `  ${line}`)],
  });
}
