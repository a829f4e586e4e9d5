// The version of the facts decisions rest on (migration 014: every transaction that changes a person, parent,
// family, consent, directory entry, registration or open dispute moves it once). A process that keeps facts in
// memory reads it before it uses them: one small statement instead of the facts' own reads.
import type { Queryable } from './database.js';

/**
 * Reads the fact version, sharing one read among the callers that wait at the same time. A caller always gets a read
 * that started after it asked, so it sees every change committed before it asked (a withdrawal acknowledged to one
 * client is seen by the next decision any client asks for, in any process): a caller that arrives while a read is
 * in flight waits for the next one, which starts when that read ends and serves everyone who arrived meanwhile.
 */
export class FactVersionReader {
  private running?: Promise<string>;
  private queued?: Promise<string>;

  constructor(private readonly db: Queryable) {}

  current(): Promise<string> {
    if (!this.running) {
      const read = this.read();
      this.running = read;
      const clear = () => {
        if (this.running === read) this.running = undefined;
      };
      read.then(clear, clear);
      return read;
    }
    if (!this.queued) {
      const after = this.running;
      const next = after
        .then(
          () => undefined,
          () => undefined,
        )
        .then(() => {
          this.queued = undefined;
          // A read that is running now started after `after` ended, so after every caller that waited here.
          return this.running ?? this.current();
        });
      this.queued = next;
    }
    return this.queued;
  }

  private async read(): Promise<string> {
    const [row] = await this.db.query<{ version: string }>(
      'SELECT version::text AS version FROM fact_version WHERE id = 1',
    );
    if (!row) throw new Error('fact_version row missing (migration 014)');
    return row.version;
  }
}
