// Group commit for audit records that have no other write to join: reads and searches. Requests that arrive while a
// commit is under way are appended together in the next one, so many concurrent reads share a commit instead of each
// paying for its own. A caller's promise settles only after its record is committed; if that fails, the caller fails
// too and releases nothing (fail closed).
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Database } from '../store/database.js';
import { GroupCommit } from '../store/group-commit.js';
import type { AuditItem } from './chain.js';
import { appendAudits } from './log.js';

export class AuditWriter {
  private readonly commits: GroupCommit<AuditItem, AuditEvent>;

  constructor(
    db: Database,
    opts: {
      /** Commits under way at once (each extends its own chain on PostgreSQL; PGlite runs them in turn). */
      parallel?: number;
      /** The most records in one commit. */
      maxBatch?: number;
    } = {},
  ) {
    // A failed append is the store's failure, not one record's: the whole batch fails, nothing is tried alone.
    this.commits = new GroupCommit(db, appendAudits, { ...opts, alone: false });
  }

  /** Appends one record; resolves once it is committed. */
  append(item: AuditItem): Promise<AuditEvent> {
    return this.commits.add(item);
  }

  /** Resolves when every record handed over so far is committed (or has failed). */
  drain(): Promise<void> {
    return this.commits.drain();
  }
}
