// Group commit for audit records that have no other write to join: reads and searches. Requests that arrive while a
// commit is under way are appended together in the next one, so many concurrent reads share a commit instead of each
// paying for its own. A caller's promise settles only after its record is committed; if that fails, the caller fails
// too and releases nothing (fail closed).
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Database } from '../store/database.js';
import type { AuditItem } from './chain.js';
import { appendAudits } from './log.js';

interface Pending {
  item: AuditItem;
  resolve: (stored: AuditEvent) => void;
  reject: (err: unknown) => void;
}

export class AuditWriter {
  private queue: Pending[] = [];
  private running = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly opts: {
      /** Commits under way at once (each extends its own chain on PostgreSQL; PGlite runs them in turn). */
      parallel?: number;
      /** The most records in one commit. */
      maxBatch?: number;
    } = {},
  ) {}

  /** Appends one record; resolves once it is committed. */
  append(item: AuditItem): Promise<AuditEvent> {
    return new Promise<AuditEvent>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when every record handed over so far is committed (or has failed). */
  drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Starts the next commit once the current turn of the event loop is over, so that the records of every request
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
      this.db
        .transaction((tx) =>
          appendAudits(
            tx,
            batch.map((p) => p.item),
          ),
        )
        .then(
          (stored) => {
            this.settled();
            batch.forEach((p, i) => p.resolve(stored[i]!));
          },
          (err: unknown) => {
            this.settled();
            batch.forEach((p) => p.reject(err));
          },
        );
    }
  }

  private settled(): void {
    this.running--;
    this.schedule();
    if (this.running === 0 && this.queue.length === 0) this.idle.splice(0).forEach((r) => r());
  }
}
