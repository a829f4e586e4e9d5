// `npx tsx scripts/scale-seed.ts --people 10000 --audit-events 100000 [--data-dir DIR | --database-url URL]`: fills a
// database with synthetic people and audit events (bench/scale-seed.ts) and prints how long it took and its size.
// Without --data-dir or --database-url it seeds a fresh PGlite data directory under the system's temporary folder.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { seedScale } from '../bench/scale-seed.js';
import { openDatabase } from '../src/store/open.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '10000' },
    'audit-events': { type: 'string', default: '100000' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
  },
});
const dataDir = values['database-url']
  ? undefined
  : (values['data-dir'] ?? (await mkdtemp(path.join(tmpdir(), 'ketenpoort-scale-'))));
const where = values['database-url'] ? `PostgreSQL ${values['database-url']}` : `PGlite ${dataDir}`;
console.log(`Seeding ${where}`);
const opened = performance.now();
const db = await openDatabase({ databaseUrl: values['database-url'], dataDir });
console.log(`  opened and migrated in ${((performance.now() - opened) / 1000).toFixed(1)} s`);
try {
  const r = await seedScale(db, {
    people: Number(values.people),
    auditEvents: Number(values['audit-events']),
  });
  console.log(
    `${r.people} people (${r.families} families, ${r.resources} resources) in ${r.seconds.resources.toFixed(1)} s; ` +
      `${r.auditEvents} audit events in ${r.seconds.audit.toFixed(1)} s; ANALYZE ${r.seconds.analyze.toFixed(1)} s; ` +
      `database ${(r.bytes / 2 ** 20).toFixed(0)} MiB`,
  );
} finally {
  await db.close();
}
