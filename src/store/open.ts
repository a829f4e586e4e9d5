// Engine selection: PostgreSQL when a URL is given, otherwise embedded PGlite; both migrated on open.
import { migrate, type Database } from './database.js';

/** Opens the database the configuration names: PostgreSQL when a URL is given, otherwise PGlite. */
export async function openDatabase(opts: { databaseUrl?: string; dataDir?: string }): Promise<Database> {
  const db = opts.databaseUrl
    ? await (await import('./postgres.js')).openPostgres(opts.databaseUrl)
    : await (await import('./pglite.js')).openPglite(opts.dataDir ?? 'memory://');
  await migrate(db);
  return db;
}
