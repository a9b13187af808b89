import { ErrorCodes, InterruptedError, RefusedError, RemoteError, isPeruriError } from '../errors.js';
import type { MachinePool } from '../deploy/machines.js';
import { ensureFolder, ensureRuntime, lastLogLines, type RuntimeAccess } from '../deploy/runtime.js';
import { deployedFolder, type DeployState } from '../deploy/state.js';
import { machineName, type NodeTarget } from '../deploy/targets.js';
import { assessQuorum, bftQuorum } from './plan.js';
import type { RecordedProposal } from './state.js';

/** Limits of the waits a rotation does. */
export interface RotationTiming {
  /** How long a node may take to come back, or a vote to apply (default 180 s). */
  timeoutMs: number;
  /** Time between probes (default 1 s). */
  pollMs: number;
  /** How long to watch for the chain to make a block (a few block periods). */
  blockWaitMs: number;
  signal?: AbortSignal;
}

/** What one look at the validators found. */
export interface Observation {
  /** The on-chain validator set of the latest block, lower-case and ascending. */
  set: string[];
  /** Validator nodes whose JSON-RPC answered and whose chain advanced while watched, by node name. */
  online: Map<string, string>;
  /** Validator nodes that did not answer or did not advance, with the reason. */
  offline: Map<string, string>;
  /** The highest block seen. */
  head: number;
  /** Whether any validator's chain advanced while watched. */
  producing: boolean;
}

/**
 * The nodes of a network as a rotation reaches them: SSH connections from a shared pool, each
 * node's JSON-RPC forwarded from its machine's loopback, and the IBFT 2.0 methods of NOTES.md (c).
 */
export class RotationNetwork {
  private readonly forwards = new Map<string, Promise<string>>();

  /**
   * @param pool - SSH connections (and Docker engines) by machine
   * @param targets - every node's deploy target, in spec order
   * @param timing - limits
   */
  constructor(
    readonly pool: MachinePool,
    public targets: NodeTarget[],
    readonly timing: RotationTiming,
  ) {}

  /** The validators' targets. */
  get validators(): NodeTarget[] {
    return this.targets.filter((target) => target.node.role === 'validator');
  }

  /** The named node's target. */
  target(name: string): NodeTarget {
    return this.targets.find((target) => target.node.name === name)!;
  }

  /** Machine and engine of a node, as deploy's runtime functions want them. */
  async access(target: NodeTarget): Promise<RuntimeAccess> {
    const machine = await this.pool.get(target.machine);
    return {
      machine,
      docker: () => this.pool.docker(target.machine),
      ...(this.timing.signal ? { signal: this.timing.signal } : {}),
    };
  }

  /** The node's JSON-RPC URL here (a forwarded port); the forward is opened once. */
  url(name: string): Promise<string> {
    let forward = this.forwards.get(name);
    if (!forward) {
      const target = this.target(name);
      forward = this.pool
        .get(target.machine)
        .then((machine) => machine.forwardTcp(target.rpc.host, target.rpc.port))
        .then((opened) => opened.url);
      this.forwards.set(name, forward);
      forward.catch(() => this.forwards.delete(name));
    }
    return forward;
  }

  /** One JSON-RPC call on a node. */
  async call<T>(name: string, method: string, params: unknown[] = [], timeoutMs = 5_000): Promise<T> {
    const { rpcRequest } = await import('../../io/rpc.js');
    return rpcRequest<T>(await this.url(name), method, params, {
      timeoutMs,
      ...(this.timing.signal ? { signal: this.timing.signal } : {}),
    });
  }

  /** The node's block height, or the reason it has none. */
  async head(name: string): Promise<number | string> {
    try {
      const hex = await this.call<string>(name, 'eth_blockNumber', [], 3_000);
      return Number(BigInt(hex));
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      return error instanceof Error ? error.message : String(error);
    }
  }

  /**
   * Watches every validator node for a few block periods: which answer and advance, and the set.
   * @param addressOf - the address each validator node runs with now
   */
  async observe(addressOf: (node: string) => string): Promise<Observation> {
    const names = this.validators.map((target) => target.node.name);
    const first = new Map<string, number>();
    const offline = new Map<string, string>();
    for (const [index, height] of (await Promise.all(names.map((name) => this.head(name)))).entries()) {
      if (typeof height === 'number') first.set(names[index]!, height);
      else offline.set(names[index]!, `no answer (${height})`);
    }
    const online = new Map<string, string>();
    let head = Math.max(-1, ...first.values());
    const deadline = Date.now() + this.timing.blockWaitMs;
    while (online.size < first.size) {
      await sleep(Math.min(this.timing.pollMs, 250), this.timing.signal);
      const heights = await Promise.all(
        [...first.keys()]
          .filter((name) => !online.has(name))
          .map(async (name) => [name, await this.head(name)] as const),
      );
      for (const [name, height] of heights) {
        if (typeof height === 'number' && height > first.get(name)!) {
          online.set(name, addressOf(name));
          head = Math.max(head, height);
        }
      }
      if (Date.now() > deadline) break;
    }
    for (const name of first.keys()) {
      if (!online.has(name)) offline.set(name, `blocks do not advance (height ${first.get(name)!})`);
    }
    const set = (await this.validatorSet([...online.keys(), ...first.keys()])) ?? [];
    return { set, online, offline, head, producing: online.size > 0 };
  }

  /**
   * The validator set at the head, as the first of `names` that answers reports it (sorted,
   * lowercase); undefined when none answers.
   */
  private async validatorSet(names: readonly string[]): Promise<string[] | undefined> {
    for (const name of names) {
      try {
        return (await this.call<string[]>(name, 'ibft_getValidatorsByBlockNumber', ['latest']))
          .map((address) => address.toLowerCase())
          .sort();
      } catch (error) {
        if (error instanceof InterruptedError) throw error;
      }
    }
    return undefined;
  }

  /**
   * Refuses the step unless the chain makes blocks and the validators online at the step's
   * tightest moment reach ceil(2N/3) of the set then.
   * @param step - its name, for the message
   * @param observation - what {@link observe} found
   * @param tightest - the moment in words (`while v2 restarts`), the set's size and the validators online then
   * @throws RefusedError (PC_QUORUM_AT_RISK) with the arithmetic; nothing was changed by the step
   */
  requireQuorum(
    step: string,
    observation: Observation,
    tightest: { when: string; setSize: number; online: number },
  ): void {
    this.requireProducing(step, observation);
    const assessment = assessQuorum(tightest.when, tightest.online, tightest.setSize);
    if (!assessment.ok) {
      throw new RefusedError(
        ErrorCodes.QUORUM_AT_RISK,
        `Refused before ${step}: ${tightest.when}, ${tightest.online} of ${tightest.setSize} validators would be online, ceil(2·${tightest.setSize}/3) = ${bftQuorum(tightest.setSize)} needed`,
        {
          details: [...describeObservation(observation), assessment.text],
          hint: 'Bring the offline validators back (`peruri-chain status` shows them) and re-run rotate-key; it resumes here.',
        },
      );
    }
  }

  /**
   * Refuses the step unless the chain makes blocks and its validator set is known.
   * @param step - its name, for the message
   * @param observation - what {@link observe} found
   * @throws RefusedError (PC_QUORUM_AT_RISK)
   */
  requireProducing(step: string, observation: Observation): void {
    if (!observation.producing || observation.set.length === 0) {
      throw new RefusedError(ErrorCodes.QUORUM_AT_RISK, `Refused before ${step}: the chain makes no blocks`, {
        details: describeObservation(observation),
        hint: 'Bring the validators back (`peruri-chain status` shows them) and re-run rotate-key; it resumes here.',
      });
    }
  }

  /**
   * Every pending vote (`ibft_getPendingVotes`) on the reachable validators that is not one of ours.
   * @param ours - the proposals this rotation made
   * @param names - the validator nodes to ask
   * @returns one line per foreign vote, and the nodes that could not be asked
   */
  async foreignVotes(
    ours: readonly RecordedProposal[],
    names: readonly string[],
  ): Promise<{ foreign: string[]; unasked: string[] }> {
    const foreign: string[] = [];
    const unasked: string[] = [];
    await Promise.all(
      names.map(async (name) => {
        let pending: Record<string, boolean>;
        try {
          pending = await this.call<Record<string, boolean>>(name, 'ibft_getPendingVotes');
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          unasked.push(name);
          return;
        }
        for (const [subject, add] of Object.entries(pending)) {
          const mine = ours.some(
            (proposal) =>
              proposal.subject === subject.toLowerCase() &&
              proposal.add === add &&
              proposal.nodes.includes(name),
          );
          if (!mine) foreign.push(`${name}: ${add ? 'add' : 'remove'} ${subject.toLowerCase()}`);
        }
      }),
    );
    return { foreign: foreign.sort(), unasked: unasked.sort() };
  }

  /**
   * Waits until the latest block's validator set satisfies `done`.
   * @returns the set
   * @throws RemoteError (PC_VOTE_NOT_APPLIED) after the time limit
   */
  async waitForSet(
    what: string,
    done: (set: string[]) => boolean,
    names: readonly string[],
  ): Promise<string[]> {
    const deadline = Date.now() + this.timing.timeoutMs;
    let last: string[] = [];
    for (;;) {
      last = (await this.validatorSet(names)) ?? last;
      if (done(last)) return last;
      if (Date.now() > deadline) break;
      await sleep(this.timing.pollMs, this.timing.signal);
    }
    throw new RemoteError(
      ErrorCodes.VOTE_NOT_APPLIED,
      `The validator set did not change in ${Math.round(this.timing.timeoutMs / 1000)} s: ${what}`,
      {
        command: 'ibft_getValidatorsByBlockNumber',
        details: [`validator set seen last: ${last.join(', ') || 'none'}`],
        hint: 'A vote lands only in blocks its voters propose; check that they make blocks (`peruri-chain status`) and re-run rotate-key, which proposes again and resumes.',
      },
    );
  }

  /**
   * Waits until a restarted node answers and its chain advances past what it first reports.
   * @throws RemoteError (PC_NODE_UNHEALTHY) with its last log lines after the time limit
   */
  async waitForNode(target: NodeTarget): Promise<number> {
    const name = target.node.name;
    const deadline = Date.now() + this.timing.timeoutMs;
    let first: number | undefined;
    let reason = 'no answer';
    for (;;) {
      const height = await this.head(name);
      if (typeof height === 'number') {
        if (first === undefined) first = height;
        else if (height > first) return height;
        reason = `blocks do not advance (height ${height})`;
      } else {
        reason = `no answer (${height})`;
      }
      if (Date.now() > deadline) break;
      await sleep(this.timing.pollMs, this.timing.signal);
    }
    const logs = await lastLogLines(await this.access(target), target.runtime);
    throw new RemoteError(
      ErrorCodes.NODE_UNHEALTHY,
      `Node ${name} on ${machineName(target.machine)} is not back after ${Math.round(this.timing.timeoutMs / 1000)} s: ${reason}`,
      {
        host: machineName(target.machine),
        command: 'eth_blockNumber',
        hint: `Look at the log lines of ${name} below; re-running rotate-key resumes here.`,
        details: [`last log lines of ${name}:`, ...logs.map((line) => `  ${line}`)],
      },
    );
  }

  /**
   * Puts a node's folder from the workspace onto its machine and (re)starts it, as deploy does,
   * recording it in the deploy state.
   * @returns whether anything changed on the machine
   */
  async deployNode(target: NodeTarget, state: DeployState): Promise<'changed' | 'unchanged'> {
    const access = await this.access(target);
    const folder = await ensureFolder(access, target);
    const runtime = await ensureRuntime(access, target.runtime);
    const changed = folder === 'changed' || runtime === 'changed';
    state.nodes[target.node.name] = deployedFolder(
      target,
      changed,
      state.nodes[target.node.name],
      target.runtimeHash,
    );
    return changed ? 'changed' : 'unchanged';
  }

  /** Ends every connection and forward. */
  async close(): Promise<void> {
    this.forwards.clear();
    await this.pool.closeAll();
  }
}

/**
 * What an observation found, one line each: the set, the nodes online, the offline ones and why.
 * @param observation - what {@link RotationNetwork.observe} found
 */
export function describeObservation(observation: Observation): string[] {
  return [
    `validator set now: ${observation.set.length} (${observation.set.join(', ') || 'unknown'})`,
    `online: ${[...observation.online.keys()].join(', ') || 'none'}`,
    ...[...observation.offline].map(([name, reason]) => `offline: ${name}: ${reason}`),
  ];
}

/**
 * Whether an error means a node or machine could not be reached (so it counts as offline).
 * @param error - what was thrown
 */
export function isUnreachable(error: unknown): boolean {
  return isPeruriError(error) && error.kind === 'remote';
}

/**
 * Waits `ms`, or rejects with InterruptedError when `signal` aborts.
 * @param ms - milliseconds
 * @param signal - the command's signal
 */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(new InterruptedError('Interrupted'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError('Interrupted'));
    };
    // Removed once the time is up, so polling loops do not pile listeners on the signal.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
