// Row counts of every table of a gateway database, to show that refused requests left nothing behind.
import type { Database } from '../src/store/database.js';

/**
 * Tables whose rows a refusal adds by design: the audit log records every refusal (and its chain heads and
 * checkpoints move with it). Everything else must stay as it was.
 */
const RECORDS_REFUSALS = /^audit_/;

export async function tablesOf(db: Database): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((r) => r.name).filter((t) => !RECORDS_REFUSALS.test(t) && /^\w+$/.test(t));
}

/** Rows per table (the audit tables left out), read in one statement. */
export async function rowCounts(db: Database, tables?: string[]): Promise<Record<string, number>> {
  const names = tables ?? (await tablesOf(db));
  const [row] = await db.query<Record<string, number>>(
    `SELECT ${names.map((t) => `(SELECT count(*)::int FROM "${t}") AS "${t}"`).join(', ')}`,
  );
  return row!;
}
