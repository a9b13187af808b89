import { resolve } from 'node:path';
import { withStackLock } from './lock.js';
import { readStackState, writeStackState, type ProcessRecord, type StackRole } from './state.js';
import { stopRecordedProcess, type StopOutcome } from './supervise.js';

/** One recorded process and how its stop went. */
export interface StoppedProcess {
  name: string;
  role: StackRole;
  pid: number;
  /** `stopped` on SIGTERM, `killed` after the grace time, `not running` when it had already ended. */
  outcome: StopOutcome;
}

/** What {@link stopStack} did. */
export interface StopStackResult {
  dir: string;
  /** Every process that was recorded, adapter first; empty when nothing was recorded. */
  processes: StoppedProcess[];
}

/** Options of {@link stopStack}. */
export interface StopStackOptions {
  /** SIGTERM grace for the adapter (default 15,000 ms: its own shutdown limit is 10 s). */
  adapterGraceMs?: number;
  /** SIGTERM grace for chain processes (default 30,000 ms: anvil saves its state, Besu closes its database). */
  chainGraceMs?: number;
}

/**
 * Stops what `up` started in a workspace: the adapter first (it finishes requests in flight), then
 * the chain (SIGTERM, so that anvil saves its state), each with SIGKILL after a grace time, and
 * removes their records. Only processes whose pid still has the recorded start time are signalled.
 * Stopping a stack that is not running is not an error.
 * @param dir - the workspace
 * @param options - grace times
 * @returns each recorded process and how its stop went
 * @example
 * const { processes } = await stopStack('./workspace');
 */
export async function stopStack(dir: string, options: StopStackOptions = {}): Promise<StopStackResult> {
  const absolute = resolve(dir);
  if (!(await readStackState(absolute))) return { dir: absolute, processes: [] };
  return withStackLock(absolute, 'down', () => stopRecordedStack(absolute, options));
}

/**
 * {@link stopStack} for a caller that already holds the stack lock (`up --reset-chain`).
 * @param absolute - the workspace, absolute
 * @param options - grace times
 * @returns each recorded process and how its stop went
 */
export async function stopRecordedStack(
  absolute: string,
  options: StopStackOptions = {},
): Promise<StopStackResult> {
  const state = await readStackState(absolute);
  if (!state) return { dir: absolute, processes: [] };
  const order: ProcessRecord[] = [
    ...state.processes.filter((record) => record.role === 'adapter'),
    // Besu: the transaction node (started last) first, validators after.
    ...state.processes.filter((record) => record.role === 'chain').reverse(),
  ];
  const stopped: StoppedProcess[] = [];
  for (const record of order) {
    const grace =
      record.role === 'adapter' ? (options.adapterGraceMs ?? 15_000) : (options.chainGraceMs ?? 30_000);
    const outcome = await stopRecordedProcess(record, grace);
    stopped.push({ name: record.name, role: record.role, pid: record.pid, outcome });
    // Written after each, so that an interrupted down leaves an accurate record.
    state.processes = state.processes.filter((other) => other !== record);
    await writeStackState(absolute, state);
  }
  return { dir: absolute, processes: stopped };
}
