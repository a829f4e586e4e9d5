// Municipal report speed: building the MeasureReport (counting, small-cell suppression) over a municipality's
// trajectories in memory and from the database, and recording trajectories.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '../src/paths.js';
import type { FixtureTrajectory } from '../src/reports/fixtures.js';
import { municipalReport } from '../src/reports/municipal.js';
import { parsePeriod } from '../src/reports/period.js';
import type { ReportTrajectory } from '../src/reports/trajectory.js';
import { recordTrajectory, trajectoriesIn } from '../src/store/report-trajectories.js';
import { openDatabase } from '../src/store/open.js';
import { bench } from './lib.js';

export async function run(): Promise<void> {
  const venray = JSON.parse(
    readFileSync(path.join(FIXTURES_DIR, 'trajectories', '0984-venray.json'), 'utf8'),
  ) as FixtureTrajectory[];
  const year = parsePeriod('2023')!;
  await bench(
    'municipal report, Venray 2023 (478 trajectories, in memory)',
    () => municipalReport({ municipality: '0984', period: year, rows: venray, threshold: 5 }),
    { iterations: 2000 },
  );
  // A large city: 20 times Venray's trajectories (≈ 9,600), one year.
  const city: ReportTrajectory[] = Array.from({ length: 20 }, (_, copy) =>
    venray.map((t) => ({ ...t, key: `${copy}-${t.id}`, municipality: '0363' })),
  ).flat();
  await bench(
    `municipal report, ${city.length.toLocaleString('en')} trajectories (in memory)`,
    () => municipalReport({ municipality: '0363', period: year, rows: city, threshold: 5 }),
    { iterations: 200 },
  );
  const db = await openDatabase({ dataDir: 'memory://' });
  let i = 0;
  await bench(
    'record a trajectory (own transaction, PGlite)',
    () => db.transaction((tx) => recordTrajectory(tx, city[i++ % city.length]!)),
    { iterations: city.length, warmup: 0 },
  );
  await bench(
    `municipal report from the database, ${city.length.toLocaleString('en')} trajectories (PGlite)`,
    async () =>
      municipalReport({
        municipality: '0363',
        period: year,
        rows: await trajectoriesIn(db, '0363', year),
        threshold: 5,
      }),
    { iterations: 50 },
  );
  await db.close();
}
