// Embedded PostgreSQL (PGlite): the zero-set-up engine, on disk under ./data or in memory for tests.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Database, DatabaseContext, Queryable } from './database.js';

export async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir.startsWith('memory://') ? undefined : dataDir);
  const context: DatabaseContext = {};
  const wrap = (q: Pick<PGlite, 'query'>): Queryable => ({
    context,
    async query<T>(sql: string, params: unknown[] = []) {
      return (await q.query<T>(sql, params)).rows;
    },
  });
  return {
    engine: 'pglite',
    ...wrap(pg),
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    exec: async (sql) => {
      await pg.exec(sql);
    },
    close: () => pg.close(),
  };
}
