// Embedded PostgreSQL (PGlite): the zero-set-up engine, on disk under ./data or in memory for tests.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

/** The embedded engine's buffer pool (docs/performance.md: resident memory). */
const PGLITE_SHARED_BUFFERS = '16MB';

export async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir.startsWith('memory://') ? undefined : dataDir, {
    // The embedded engine keeps its pages in this process: a small buffer pool (PostgreSQL's default is 128 MB) keeps
    // the gateway's resident memory down; PGlite's own file system (or the OS cache, on disk) holds the data anyway.
    postgresqlconf: [`shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  });
  return pgliteDatabase(pg, undefined);
}

/** A handle on the engine that hands `services` to its transactions (Database.withServices). */
function pgliteDatabase(pg: PGlite, services: unknown): Database {
  const wrap = (q: Pick<PGlite, 'query'>): Queryable => ({
    services,
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
    withServices: (next) => pgliteDatabase(pg, next),
  };
}
