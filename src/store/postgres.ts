// PostgreSQL server engine (node-postgres pool), selected by DATABASE_URL.
import pg from 'pg';
import {
  isConnectionError,
  StorageUnavailableError,
  wrapConnectionErrors,
  type Database,
  type Queryable,
} from './database.js';

// int8 (counts, sequences) as JavaScript numbers, the same as PGlite gives them.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 3000 });
  pool.on('error', () => {
    // An idle client lost its connection; the next query reports it.
  });
  // A connection terminated while no query runs on it (pg_terminate_backend, a reset) emits 'error' on its client,
  // which pg-pool does not always listen for at that moment; the query that uses it next fails and answers 503.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return postgresDatabase(pool, undefined);
}

/** A handle on the pool that hands `services` to its transactions (Database.withServices). */
function postgresDatabase(pool: pg.Pool, services: unknown): Database {
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    services,
    query: <T>(sql: string, params: unknown[] = []) =>
      wrapConnectionErrors(async () => (await q.query(sql, params)).rows as T[]),
  });
  return {
    engine: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      const client = await wrapConnectionErrors(() => pool.connect());
      // A connection that drops while checked out emits 'error' on the client: the running query fails with it
      // (answered 503), and without this listener the process would crash on an uncaught exception.
      let broken = false;
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        // BEGIN and COMMIT go to the client directly: a connection lost there is storage unavailable too (503).
        if (!(err instanceof StorageUnavailableError) && isConnectionError(err))
          throw new StorageUnavailableError(err);
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    exec: async (sql) => {
      await wrapConnectionErrors(() => pool.query(sql));
    },
    close: () => pool.end(),
    withServices: (next) => postgresDatabase(pool, next),
  };
}
