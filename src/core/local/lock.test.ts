import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../test/support/net.js';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { processStartTime } from '../../io/detached.js';
import { LOCK_FILE, withStackLock } from './lock.js';

async function aLock(dir: string, holder: object): Promise<void> {
  await mkdir(join(dir, '.local'), { recursive: true });
  await writeFile(join(dir, LOCK_FILE), JSON.stringify(holder));
}

describe('the stack lock', () => {
  it('refuses while a running process holds it', async () => {
    // Given a lock held by a process that runs (this test's own parent, as good as any)
    const dir = await aTempDir();
    const pid = process.ppid;
    await aLock(dir, { pid, startTime: await processStartTime(pid), command: 'up' });

    // When another run wants it
    let ran = false;
    const error = (await rejectionOf(
      withStackLock(dir, 'down', async () => {
        ran = true;
      }),
    )) as { code: string; message: string };

    // Then it refuses without running its work
    expect(error.code).toBe('PC_LOCAL_BUSY');
    expect(error.message).toContain(`pid ${pid}`);
    expect(ran).toBe(false);
  });

  it('takes over a lock left by a process that is gone, and releases it afterwards', async () => {
    // Given a lock whose holder's start time no longer matches (killed outright, pid reused)
    const dir = await aTempDir();
    await aLock(dir, { pid: process.pid, startTime: 'long ago', command: 'up' });

    // When a run takes it
    const result = await withStackLock(dir, 'up', async () => {
      await stat(join(dir, LOCK_FILE));
      return 42;
    });

    // Then the work ran and the lock is gone again
    expect(result).toBe(42);
    await expect(stat(join(dir, LOCK_FILE))).rejects.toThrow();
  });
});
