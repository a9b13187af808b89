import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { rejectionOf } from '../../../test/support/net.js';
import { readStackState, STACK_FILE, writeStackState, type StackState } from './state.js';

const aState = (): StackState => ({
  version: 1,
  engine: 'anvil',
  processes: [
    {
      name: 'anvil',
      role: 'chain',
      pid: 4242,
      startTime: '123456',
      logFile: '.local/anvil.log',
      startedAt: '2026-11-24T10:00:00.000Z',
    },
  ],
});

describe('the stack state file', () => {
  it('round-trips, lives in a private .local, and disappears when nothing runs', async () => {
    // Given a workspace without state
    const dir = await aTempDir();
    expect(await readStackState(dir)).toBeUndefined();

    // When a state is written and read back
    await writeStackState(dir, aState());

    // Then it is the same, in a 0700 folder
    expect(await readStackState(dir)).toEqual(aState());
    expect((await stat(join(dir, '.local'))).mode & 0o777).toBe(0o700);

    // When no process is left
    await writeStackState(dir, { ...aState(), processes: [] });

    // Then the file is gone
    expect(await readStackState(dir)).toBeUndefined();
  });

  it('refuses a file that is not a stack state, with a hint', async () => {
    // Given a damaged state file
    const dir = await aTempDir();
    await mkdir(join(dir, '.local'));
    await writeFile(
      join(dir, STACK_FILE),
      JSON.stringify({ version: 1, engine: 'anvil', processes: [{ pid: -1 }] }),
    );

    // When it is read
    const error = (await rejectionOf(readStackState(dir))) as { code: string; hint: string };

    // Then it is an input error naming what to do
    expect(error.code).toBe('PC_WORKSPACE_INVALID');
    expect(error.hint).toContain('delete');
  });
});
