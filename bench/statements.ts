// SQL statement tally for the profile benchmark: wraps a Database so that every statement (and every transaction) is
// counted and timed, grouped by verb and table.
import type { Database, Queryable } from '../src/store/database.js';

export class StatementTally {
  readonly byKind = new Map<string, { count: number; ms: number }>();
  total = 0;
  transactions = 0;

  add(sql: string, ms: number): void {
    const kind = statementKind(sql);
    const entry = this.byKind.get(kind) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += ms;
    this.byKind.set(kind, entry);
    this.total++;
  }

  reset(): void {
    this.byKind.clear();
    this.total = 0;
    this.transactions = 0;
  }

  /** Lines "count per request · ms per request · kind", most frequent first. */
  lines(requests: number): string[] {
    return [...this.byKind.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .map(
        ([kind, e]) =>
          `${(e.count / requests).toFixed(2).padStart(7)} ${(e.ms / requests).toFixed(3).padStart(8)} ms  ${kind}`,
      );
  }
}

/** "SELECT resources", "INSERT audit_events", "UPDATE delivery_jobs", …: the verb and the first table it names. */
export function statementKind(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = /^(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '?';
  const table =
    verb === 'INSERT'
      ? /^INSERT INTO (\w+)/i.exec(text)?.[1]
      : verb === 'UPDATE'
        ? /^UPDATE (\w+)/i.exec(text)?.[1]
        : verb === 'DELETE'
          ? /^DELETE FROM (\w+)/i.exec(text)?.[1]
          : / FROM (\w+)/i.exec(text)?.[1];
  return table ? `${verb} ${table}` : text.slice(0, 60);
}

export function countingDatabase(db: Database, tally: StatementTally): Database {
  const wrap = (q: Queryable): Queryable => ({
    services: q.services,
    async query<T>(sql: string, params?: unknown[]) {
      const start = performance.now();
      try {
        return await q.query<T>(sql, params);
      } finally {
        tally.add(sql, performance.now() - start);
      }
    },
  });
  return {
    engine: db.engine,
    ...wrap(db),
    transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      tally.transactions++;
      return db.transaction((tx) => fn(wrap(tx)));
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    withServices: (services) => countingDatabase(db.withServices(services), tally),
  };
}
