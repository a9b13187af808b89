import { describe, expect, it } from 'vitest';
import { GroupCommitter, type GroupSession } from './group-commit.js';

/** A session that records statements and whose flush the test releases by hand. */
function aSession(log: string[], flush?: { release: () => void; fail: (error: Error) => void }) {
  return (): GroupSession => ({
    exec: (sql) => void log.push(sql),
    tx: { query: async (sql) => (log.push(sql), []) },
    release: () => log.push('release'),
    ...(flush
      ? {
          durable: () =>
            new Promise<void>((resolve, reject) => {
              log.push('flush');
              flush.release = resolve;
              flush.fail = reject;
            }),
        }
      : {}),
  });
}

describe('GroupCommitter', () => {
  it('runs concurrent writes in one transaction, each in its own savepoint', async () => {
    const log: string[] = [];
    const committer = new GroupCommitter(aSession(log), { maxDelayMs: 0, maxBatch: 10 });
    await Promise.all([committer.submit((tx) => tx.query('a')), committer.submit((tx) => tx.query('b'))]);
    expect(log).toEqual([
      'BEGIN',
      'SAVEPOINT work',
      'a',
      'RELEASE work',
      'SAVEPOINT work',
      'b',
      'RELEASE work',
      'COMMIT',
      'release',
    ]);
    expect(committer.stats()).toEqual({ writes: 2, commits: 1 });
  });

  it('answers writers only once their commit is durable, and close waits for that', async () => {
    const log: string[] = [];
    const flush = { release: () => {}, fail: (_error: Error) => {} };
    const committer = new GroupCommitter(aSession(log, flush), { maxDelayMs: 0, maxBatch: 10 });
    let answered = false;
    const write = committer.submit(async () => 'stored').then((value) => ((answered = true), value));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // committed, not yet flushed: the writer waits
    expect(log).toContain('COMMIT');
    expect(log.at(-1)).toBe('flush');
    expect(answered).toBe(false);
    let closed = false;
    const closing = committer.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    flush.release();
    expect(await write).toBe('stored');
    await closing;
  });

  it('fails the writers of a group whose flush fails (their commit may not be on disk)', async () => {
    const flush = { release: () => {}, fail: (_error: Error) => {} };
    const committer = new GroupCommitter(aSession([], flush), { maxDelayMs: 0, maxBatch: 10 });
    const write = committer.submit(async () => 'stored');
    await new Promise((resolve) => setTimeout(resolve, 20));
    flush.fail(new Error('EIO'));
    await expect(write).rejects.toThrow('EIO');
  });
});
