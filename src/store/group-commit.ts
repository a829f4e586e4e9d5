// Group commit: the writes handed over in one turn of the event loop go into one transaction, so that many concurrent
// requests share a commit instead of each paying for its own. A caller's promise settles only after its write is
// committed; when the shared transaction fails, every write in it is tried again alone (`alone`), so that one bad write
// fails only its own caller, and a caller whose write failed alone fails too and releases nothing (fail closed).
import type { Database, Queryable } from './database.js';

interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** Commits under way at once (PostgreSQL runs them side by side; PGlite in turn). */
  parallel?: number;
  /** The most writes in one commit. */
  maxBatch?: number;
  /**
   * After the shared transaction of a batch failed, write each item in a transaction of its own (default). Off for
   * writes that cannot fail one by one (the audit chain: a failure is the store's, not an item's).
   */
  alone?: boolean;
}

export class GroupCommit<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];

  /** `write` writes a batch in the given transaction and returns one result per item, in order. */
  constructor(
    private readonly db: Database,
    private readonly write: (tx: Queryable, items: I[]) => Promise<O[]>,
    private readonly opts: GroupCommitOptions = {},
  ) {}

  /** Hands over one write; resolves with its result once it is committed. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when every write handed over so far is committed (or has failed). */
  drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Starts the next commit once the current turn of the event loop is over, so that the writes of every request
   * handled in this turn go together instead of the first one taking a free commit slot alone.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const parallel = this.opts.parallel ?? 2;
    const maxBatch = this.opts.maxBatch ?? 500;
    while (this.running < parallel && this.queue.length > 0) {
      const batch = this.queue.splice(0, maxBatch);
      this.running++;
      void this.commit(batch).finally(() => this.settled());
    }
  }

  private async commit(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.db.transaction((tx) =>
        this.write(
          tx,
          batch.map((p) => p.item),
        ),
      );
      batch.forEach((p, i) => p.resolve(out[i]!));
    } catch (err) {
      if (batch.length === 1 || this.opts.alone === false) {
        batch.forEach((p) => p.reject(err));
        return;
      }
      await Promise.all(
        batch.map((p) =>
          this.db
            .transaction((tx) => this.write(tx, [p.item]))
            .then(
              (out) => p.resolve(out[0]!),
              (e: unknown) => p.reject(e),
            ),
        ),
      );
    }
  }

  private settled(): void {
    this.running--;
    this.schedule();
    if (this.running === 0 && this.queue.length === 0) this.idle.splice(0).forEach((r) => r());
  }
}
