import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { processStartTime, spawnDetached } from '../../io/detached.js';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { isRecordedProcessRunning, stopRecordedProcess } from './supervise.js';

async function aDetached(script: string) {
  const dir = await aTempDir();
  const child = await spawnDetached({
    file: '/bin/sh',
    args: ['-c', script],
    logFile: join(dir, 'out.log'),
    env: process.env,
  });
  onTestFinished(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return { pid: child.pid, startTime: child.startTime!, exited: child.exited, logFile: join(dir, 'out.log') };
}

describe('supervising detached processes by pid and start time', () => {
  it('never signals a pid whose start time is not the recorded one (a recycled pid)', async () => {
    // Given a running process recorded with another start time
    const child = await aDetached('exec sleep 30');
    const recycled = { pid: child.pid, startTime: `${child.startTime}0` };

    // When it is checked and stopped through that record
    const running = await isRecordedProcessRunning(recycled);
    const outcome = await stopRecordedProcess(recycled, 1_000);

    // Then it is not taken for the recorded one, and it still runs
    expect(running).toBe(false);
    expect(outcome).toBe('not running');
    expect(await processStartTime(child.pid)).toBe(child.startTime);
  });

  it('stops with SIGTERM, and kills one that ignores it after the grace time', async () => {
    // Given one process that ends on SIGTERM and one that ignores it
    const polite = await aDetached('exec sleep 30');
    const stubborn = await aDetached('trap "" TERM; echo trapped; while :; do sleep 1; done');
    // SIGTERM must not arrive before the shell has set its trap.
    while (!(await readFile(stubborn.logFile, 'utf8')).includes('trapped')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    // When both are stopped
    const [politeOutcome, stubbornOutcome] = await Promise.all([
      stopRecordedProcess(polite, 5_000),
      stopRecordedProcess(stubborn, 300),
    ]);

    // Then the first stopped, the second was killed, and neither runs
    expect(politeOutcome).toBe('stopped');
    expect(stubbornOutcome).toBe('killed');
    expect(await isRecordedProcessRunning(polite)).toBe(false);
    expect(await isRecordedProcessRunning(stubborn)).toBe(false);
    // and stopping again is harmless
    expect(await stopRecordedProcess(polite, 100)).toBe('not running');
  });
});
