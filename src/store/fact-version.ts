// The version of the facts decisions rest on (migration 014: every transaction that changes a person, parent,
// family, consent, directory entry, registration or open dispute moves it once). A process that keeps facts in
// memory reads it before it uses them: one small statement instead of the facts' own reads.
import type { Queryable } from './database.js';

/**
 * Reads the fact version, one read shared by every caller that asks in the same turn of the event loop (the read
 * starts once that turn is over). A caller always gets a read that started after it asked, so it sees every change
 * committed before it asked (a withdrawal acknowledged to one client is seen by the next decision any client asks
 * for, in any process): a caller that arrives while a read is under way waits for the next one, which starts when that
 * read ends and serves everyone who arrived meanwhile.
 */
export class FactVersionReader {
  /** The read that has not started yet: callers join it. */
  private pending?: Promise<string>;
  /** The read under way: too early for a newcomer. */
  private running?: Promise<string>;

  constructor(private readonly db: Queryable) {}

  current(): Promise<string> {
    this.pending ??= this.next();
    return this.pending;
  }

  /** A read that starts after this turn and after the read under way, if any, has ended. */
  private async next(): Promise<string> {
    const before = this.running;
    await (before ? before.then(settled, settled) : new Promise<void>((r) => setImmediate(r)));
    const read = this.read();
    this.running = read;
    // From here on a newcomer needs the next read.
    this.pending = undefined;
    try {
      return await read;
    } finally {
      if (this.running === read) this.running = undefined;
    }
  }

  private async read(): Promise<string> {
    const [row] = await this.db.query<{ version: string }>(
      'SELECT version::text AS version FROM fact_version WHERE id = 1',
    );
    if (!row) throw new Error('fact_version row missing (migration 014)');
    return row.version;
  }
}

const settled = () => undefined;
