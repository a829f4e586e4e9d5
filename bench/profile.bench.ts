// `npm run bench profile`: where a decision's and an exchange's time goes. (1) SQL statements per request, counted
// and timed in-process on PGlite and on a fresh PostgreSQL database (BENCH_DATABASE_URL/DATABASE_URL/TEST_DATABASE_URL)
// with requests sent one at a time; (2) a CPU profile (node --cpu-prof) of the compiled sandbox under autocannon load
// for each route, summarised by area and by function.
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startSandbox } from '../src/sandbox/index.js';
import { openDatabase } from '../src/store/open.js';
import { summariseProfile } from './cpu-profile.js';
import { drive } from './http-load.js';
import { freshPostgres, sandboxToken, startTarget } from './http-targets.js';
import { ROUTES } from './http-routes.js';
import { countingDatabase, StatementTally } from './statements.js';

const N = Number(process.env.BENCH_PROFILE_REQUESTS ?? 50);
const SECONDS = Number(process.env.BENCH_PROFILE_SECONDS ?? 5);

async function statementsOn(engine: string, databaseUrl?: string): Promise<void> {
  const tally = new StatementTally();
  const db = countingDatabase(
    await openDatabase(databaseUrl ? { databaseUrl } : { dataDir: 'memory://' }),
    tally,
  );
  const sandbox = await startSandbox(
    loadConfig({ PORT: '0', DATA_DIR: 'memory://', LOG_LEVEL: 'silent' }, { rateLimitApi: 0 }),
    { db, logger: pino({ level: 'silent' }) },
  );
  try {
    const auth = { authorization: `Bearer ${await sandboxToken(sandbox.url, 'sandbox-cjg')}` };
    const routes = await ROUTES();
    for (const route of routes) {
      const send = async () => {
        const res = await fetch(`${sandbox.url}${route.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/fhir+json', ...auth },
          body: route.body,
        });
        const text = await res.text();
        if (res.status !== route.status)
          throw new Error(`${route.label}: ${res.status} ${text.slice(0, 200)}`);
        // An exchange counts until its delivery arrived, so the worker's statements are part of it.
        const id = /"urn:ietf:rfc:3986","value":"(urn:uuid:[0-9a-f-]+)"/.exec(text)?.[1];
        if (id)
          while (!sandbox.agencies.arrivals('huisartsen-de-linde').has(id))
            await new Promise((r) => setTimeout(r, 2));
      };
      for (let i = 0; i < 5; i++) await send();
      tally.reset();
      const start = performance.now();
      for (let i = 0; i < N; i++) await send();
      const ms = (performance.now() - start) / N;
      console.log(
        `\n${engine}, ${route.label}: ${(tally.total / N).toFixed(1)} statements in ${(tally.transactions / N).toFixed(1)} transactions per request, ${ms.toFixed(1)} ms per request one at a time${route.kind === 'exchange' ? ' (until delivered)' : ''}`,
      );
      console.log('  per request   time   statement');
      for (const line of tally.lines(N)) console.log(`  ${line}`);
    }
  } finally {
    await sandbox.close();
    await db.close();
  }
}

async function cpuProfiles(engine: string, databaseUrl?: () => Promise<string>): Promise<void> {
  const routes = await ROUTES();
  for (const route of routes) {
    const env: Record<string, string> = databaseUrl ? { DATABASE_URL: await databaseUrl() } : {};
    const dir = await mkdtemp(path.join(tmpdir(), `ketenpoort-cpu-${route.kind}-`));
    const gw = await startTarget(
      'src/sandbox.js',
      { RATE_LIMIT_API: '0', DATA_DIR: 'memory://', ...env },
      '/sandbox/clients',
      ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    );
    const auth = { authorization: `Bearer ${await sandboxToken(gw.url, 'sandbox-cjg')}` };
    const settings = { connections: 20, seconds: SECONDS };
    await drive(`${gw.url}${route.path}`, route.body, auth, { ...settings, seconds: 2 });
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const m = await drive(`${gw.url}${route.path}`, route.body, auth, settings);
    const toUs = Number(process.hrtime.bigint() / 1000n);
    await gw.stop();
    const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
    console.log(
      `\nCPU profile, ${engine}, ${route.label} (${m.rps.toFixed(0)} req/s while profiled): ${dir}/${file}`,
    );
    if (file)
      for (const line of await summariseProfile(path.join(dir, file), { fromUs, toUs })) console.log(line);
  }
}

const adminUrl = () =>
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;

export async function run(): Promise<void> {
  const admin = adminUrl();
  const dropped: (() => Promise<void>)[] = [];
  /** A fresh PostgreSQL database, dropped at the end of the run. */
  const fresh = async () => {
    const db = await freshPostgres(admin!);
    dropped.push(db.drop);
    return db.url;
  };
  try {
    await statementsOn('PGlite');
    if (admin) await statementsOn('PostgreSQL', await fresh());
    if (process.env.BENCH_PROFILE_CPU === '0') return;
    await cpuProfiles('PGlite');
    if (admin) await cpuProfiles('PostgreSQL', fresh);
  } finally {
    for (const drop of dropped) await drop();
  }
}
