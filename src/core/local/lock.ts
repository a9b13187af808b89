import { readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processStartTime } from '../../io/detached.js';
import { ErrorCodes, RefusedError } from '../errors.js';
import { ensureLocalDir, LOCAL_DIR } from './state.js';
import { isRecordedProcessRunning } from './supervise.js';

/** Held while `up` or `down` changes a workspace's stack, so that two runs never interleave. */
export const LOCK_FILE = `${LOCAL_DIR}/lock`;

interface LockHolder {
  pid: number;
  startTime: string;
  command: string;
}

/**
 * Runs work while holding the workspace's stack lock. A lock left by a process that no longer
 * runs (killed outright) is taken over; one held by a running process refuses.
 * @param dir - the workspace, absolute
 * @param command - who takes it (`up`, `down`), for the refusal message
 * @param work - what to do under the lock
 * @returns what the work returns
 * @throws RefusedError (PC_LOCAL_BUSY) when another run holds the lock
 */
export async function withStackLock<T>(dir: string, command: string, work: () => Promise<T>): Promise<T> {
  await ensureLocalDir(dir);
  const path = join(dir, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    startTime: (await processStartTime(process.pid)) ?? '',
    command,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await writeFile(path, JSON.stringify(holder), { flag: 'wx', mode: 0o644 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1) throw error;
      const other = await readHolder(path);
      if (other && (await isRecordedProcessRunning(other))) {
        throw new RefusedError(
          ErrorCodes.LOCAL_BUSY,
          `Another \`${other.command}\` (pid ${other.pid}) is working on the local stack of ${dir}`,
          { hint: 'Wait for it to finish, or stop it, and run this again.' },
        );
      }
      await rm(path, { force: true });
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
    // A run that only refused leaves no empty .local behind; rmdir keeps a folder with anything in it.
    await rmdir(join(dir, LOCAL_DIR)).catch(() => undefined);
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (
      typeof value.pid === 'number' &&
      typeof value.startTime === 'string' &&
      typeof value.command === 'string'
    ) {
      return value as LockHolder;
    }
  } catch {
    // unreadable: a lock from a run killed while writing it
  }
  return undefined;
}
