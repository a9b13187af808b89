import { processStartTime, signalProcess } from '../../io/detached.js';
import type { ProcessRecord } from './state.js';

/** How a stop went: it ended on SIGTERM, needed SIGKILL, or was not running (any more). */
export type StopOutcome = 'stopped' | 'killed' | 'not running';

/**
 * Whether the recorded process still runs: its pid exists and has the recorded start time, so a
 * pid the system gave to another process since is never taken for ours.
 * @param record - the recorded process
 */
export async function isRecordedProcessRunning(
  record: Pick<ProcessRecord, 'pid' | 'startTime'>,
): Promise<boolean> {
  return (await processStartTime(record.pid)) === record.startTime;
}

/**
 * Stops a recorded process: SIGTERM, up to `graceMs` for it to end, then SIGKILL. A pid that no
 * longer belongs to the recorded process is left alone.
 * @param record - the recorded process
 * @param graceMs - how long SIGTERM may take
 * @returns how it went
 * @example
 * const outcome = await stopRecordedProcess(record, 10_000); // 'stopped' | 'killed' | 'not running'
 */
export async function stopRecordedProcess(
  record: Pick<ProcessRecord, 'pid' | 'startTime'>,
  graceMs: number,
): Promise<StopOutcome> {
  if (!(await isRecordedProcessRunning(record))) return 'not running';
  if (!signalProcess(record.pid, 'SIGTERM')) return 'not running';
  if (await waitUntilGone(record, graceMs)) return 'stopped';
  // Checked again right before the kill: the identity must still be the recorded one.
  if (!(await isRecordedProcessRunning(record))) return 'stopped';
  signalProcess(record.pid, 'SIGKILL');
  await waitUntilGone(record, 5_000);
  return 'killed';
}

async function waitUntilGone(
  record: Pick<ProcessRecord, 'pid' | 'startTime'>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isRecordedProcessRunning(record))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
