import type { Tx } from './dialect.js';

/** A write unit of work for {@link GroupCommitter}. */
export type GroupWork<T> = (tx: Tx) => Promise<T>;

/** One connection for the duration of a group: transaction control, statements, release. */
export interface GroupSession {
  /** Runs a transaction-control statement (BEGIN, SAVEPOINT, COMMIT, ...). */
  exec(sql: string): void | Promise<void>;
  tx: Tx;
  /** Gives the connection back; `broken` when it must not be used again. */
  release(broken: boolean): void;
  /**
   * Resolves once the group's COMMIT is on disk, when the COMMIT itself does not wait for that
   * (SQLite: the log is fsynced off the event loop). The group's callers are answered only then.
   */
  durable?(): Promise<void>;
}

export interface GroupCommitOptions {
  /** How long the first write of a group waits for others to join it (0: the next turn of the loop). */
  maxDelayMs: number;
  /** A group reaching this many writes commits at once. */
  maxBatch: number;
}

interface Pending {
  work: GroupWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes that arrive within `maxDelayMs` of each other run in ONE transaction and
 * share its one durable flush, and each caller's promise settles only after that commit. Each
 * write runs inside its own savepoint, so one that fails is rolled back alone and the others still
 * commit. Groups run one after the other, so writes (and the audit chain) are serial without a
 * lock held across commits.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Groups committed whose durability is still awaited. */
  private readonly flushing = new Set<Promise<void>>();
  private commits = 0;
  private writes = 0;

  /**
   * @param openSession - a connection for one group
   * @param options - delay and size of a group
   * @param begin - the statements that open a group's transaction (and take its locks)
   */
  constructor(
    private readonly openSession: () => GroupSession | Promise<GroupSession>,
    private readonly options: GroupCommitOptions,
    private readonly begin: readonly string[] = ['BEGIN'],
  ) {}

  /**
   * Queues a unit of work for the next group.
   * @param work - statements to run inside the group's transaction
   * @returns its result, once the group's commit is durable
   */
  submit<T>(work: GroupWork<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('The store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Writes and commits so far. */
  stats(): { writes: number; commits: number } {
    return { writes: this.writes, commits: this.commits };
  }

  /** Commits everything queued, then refuses new work. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    while (this.running || this.queue.length > 0) {
      await (this.running ?? this.start());
    }
    await Promise.all(this.flushing);
  }

  private schedule(): void {
    if (this.running) return; // the running group picks the queue up when it ends
    if (this.queue.length >= this.options.maxBatch) {
      this.clearTimer();
      void this.start();
    } else if (!this.timer) {
      this.timer =
        this.options.maxDelayMs === 0
          ? setImmediate(() => void this.start())
          : setTimeout(() => void this.start(), this.options.maxDelayMs);
    }
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private start(): Promise<void> {
    this.clearTimer();
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.schedule();
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, this.options.maxBatch);
      await this.commitGroup(group);
    }
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    let session: GroupSession;
    try {
      session = await this.openSession();
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    let broken = false;
    try {
      for (const statement of this.begin) await session.exec(statement);
      for (const pending of group) {
        await session.exec('SAVEPOINT work');
        try {
          const value = await pending.work(session.tx);
          await session.exec('RELEASE work');
          outcomes.push({ ok: true, value });
        } catch (error) {
          await session.exec('ROLLBACK TO work');
          await session.exec('RELEASE work');
          outcomes.push({ ok: false, value: error });
        }
      }
      await session.exec('COMMIT');
    } catch (error) {
      // BEGIN, a savepoint or COMMIT failed: nothing of the group is committed.
      try {
        await session.exec('ROLLBACK');
      } catch {
        broken = true; // a failed COMMIT may have rolled back already, or the connection is gone
      }
      for (const pending of group) pending.reject(error);
      return;
    } finally {
      session.release(broken);
    }
    this.commits += 1;
    this.writes += group.length;
    const answer = () =>
      group.forEach((pending, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.value);
      });
    if (!session.durable) {
      answer();
      return;
    }
    // The next group may run while this one's flush is on its way; its callers wait for it.
    const flushed = session.durable().then(answer, (error: unknown) => {
      for (const pending of group) pending.reject(error);
    });
    this.flushing.add(flushed);
    void flushed.finally(() => this.flushing.delete(flushed));
  }
}
