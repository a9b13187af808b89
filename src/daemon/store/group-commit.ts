/** A write unit of work for {@link GroupCommitter}. */
export type GroupWork<T> = () => Promise<T>;

/** The statements a group commit needs from a synchronous SQLite connection. */
export interface GroupConnection {
  exec(sql: string): void;
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
 * Group commit for SQLite: writes that arrive within `maxDelayMs` of each other run in ONE
 * transaction and share its one fsync, and each caller's promise settles only after that commit.
 * Each write runs inside its own savepoint, so one that fails is rolled back alone and the others
 * still commit. Groups run one after the other on the single writer connection.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private commits = 0;
  private writes = 0;

  constructor(
    private readonly connection: GroupConnection,
    private readonly options: GroupCommitOptions,
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
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.connection.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return;
    }
    for (const pending of group) {
      this.connection.exec('SAVEPOINT work');
      try {
        const value = await pending.work();
        this.connection.exec('RELEASE work');
        outcomes.push({ ok: true, value });
      } catch (error) {
        this.connection.exec('ROLLBACK TO work');
        this.connection.exec('RELEASE work');
        outcomes.push({ ok: false, value: error });
      }
    }
    try {
      this.connection.exec('COMMIT');
    } catch (error) {
      try {
        this.connection.exec('ROLLBACK');
      } catch {
        // COMMIT failing may already have rolled the transaction back.
      }
      for (const pending of group) pending.reject(error);
      return;
    }
    this.commits += 1;
    this.writes += group.length;
    group.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.value);
    });
  }
}
