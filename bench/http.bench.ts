// `npm run bench http`: the gateway over HTTP next to the floor, in one run. Starts a bare express 5 JSON echo (the
// floor) and the compiled sandbox on PGlite and, when BENCH_DATABASE_URL/DATABASE_URL/TEST_DATABASE_URL is set, on a
// fresh PostgreSQL database, each as a child process on a free loopback port; drives $consent-decision, the CDS Hooks
// consult and $exchange with autocannon; prints req/s, the ratio to the floor, p50/p99, resident memory after the load,
// the drain time of the delivery backlog, and whether every acknowledged exchange reached the GP exactly once.
// BENCH_PEOPLE and BENCH_AUDIT_EVENTS seed each engine's store with that many synthetic people and audit events first
// (bench/http-scale.ts); the table names the store each gateway ran on.
import { availableParallelism, loadavg } from 'node:os';
import {
  Acknowledged,
  checkDeliveries,
  drainMs,
  drive,
  receivedCount,
  type DeliveryCheck,
  type LoadSettings,
  type Measured,
} from './http-load.js';
import { exchangeBody, ROUTES, type RouteKind } from './http-routes.js';
import { benchStore, scale } from './http-scale.js';
import { freshPostgres, sandboxToken, startTarget } from './http-targets.js';

const GP = 'huisartsen-de-linde';

const num = (v: string | undefined, fallback: number) => (v && Number(v) > 0 ? Number(v) : fallback);
const ci = Boolean(process.env.CI);
const settings: LoadSettings = {
  connections: num(process.env.BENCH_CONNECTIONS, 20),
  seconds: num(process.env.BENCH_SECONDS, ci ? 2 : 10),
};
const warmup: LoadSettings = { ...settings, seconds: num(process.env.BENCH_WARMUP_SECONDS, ci ? 1 : 3) };

type Kind = 'floor' | RouteKind;
interface Row extends Measured {
  kind: Kind;
  label: string;
  engine?: 'PGlite' | 'PostgreSQL';
  /** The store the gateway ran on: the fixtures, or how many people and audit events were seeded. */
  store?: string;
  rssMb?: number;
  drain?: number | 'over 60 s';
  deliveries?: DeliveryCheck;
  /** The floor measured just before this row (the same machine at about the same moment). */
  nextFloor?: number;
}

/** The targets: ratio to the floor per engine, p99, drain, memory. */
const TARGETS: Record<Exclude<Kind, 'floor'>, { pglite: number; postgres: number; p99: number }> = {
  decision: { pglite: 0.25, postgres: 0.33, p99: 10 },
  cds: { pglite: 0.25, postgres: 0.33, p99: 10 },
  exchange: { pglite: 0.1, postgres: 0.15, p99: 25 },
};
const RSS_TARGET_MB = 300;
const DRAIN_TARGET_MS = 2000;

/** One POST before the load: the route must answer what the benchmark claims to measure. */
async function expectAnswer(
  url: string,
  body: string,
  headers: Record<string, string>,
  status: number,
  has: string,
) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', ...headers },
    body,
  });
  const text = await res.text();
  if (res.status !== status || !text.includes(has))
    throw new Error(`${url} answered ${res.status} without "${has}": ${text.slice(0, 300)}`);
}

/**
 * The floor: a bare express echo, kept running for the whole run. This machine's speed drifts by tens of percent within
 * minutes (other tenants of the host), so besides its own row the floor is measured again, for half the time, just
 * before each gateway route, and each route's ratio is taken to that floor next to it.
 */
class Floor {
  private constructor(
    private readonly target: Awaited<ReturnType<typeof startTarget>>,
    private readonly body: string,
  ) {}

  static async start(body: string): Promise<Floor> {
    return new Floor(await startTarget('bench/floor-server.js', {}, '/ready'), body);
  }

  async row(): Promise<Row> {
    await drive(`${this.target.url}/echo`, this.body, {}, warmup);
    const m = await drive(`${this.target.url}/echo`, this.body, {}, settings);
    return {
      ...m,
      kind: 'floor',
      label: 'bare express 5 JSON echo of the exchange body',
      rssMb: await this.target.rssMb(),
    };
  }

  /** req/s of the floor now, measured for half the configured time (at least a second). */
  async now(): Promise<number> {
    const seconds = Math.max(1, Math.round(settings.seconds / 2));
    return (await drive(`${this.target.url}/echo`, this.body, {}, { ...settings, seconds })).rps;
  }

  stop(): Promise<void> {
    return this.target.stop();
  }
}

async function measureGateway(
  floor: Floor,
  engine: 'PGlite' | 'PostgreSQL',
  databaseUrl?: string,
): Promise<Row[]> {
  const store = await benchStore(engine, databaseUrl);
  try {
    return (await measureRoutes(floor, engine, store.env)).map((r) => ({ ...r, store: store.label }));
  } finally {
    await store.drop();
  }
}

async function measureRoutes(
  floor: Floor,
  engine: 'PGlite' | 'PostgreSQL',
  env: Record<string, string>,
): Promise<Row[]> {
  const gw = await startTarget('src/sandbox.js', { RATE_LIMIT_API: '0', ...env }, '/sandbox/clients');
  try {
    const auth = { authorization: `Bearer ${await sandboxToken(gw.url, 'sandbox-cjg')}` };
    const routes = await ROUTES();
    const rows: Row[] = [];
    const agency = `${gw.url}/agencies/${GP}`;
    for (const r of routes) {
      const url = `${gw.url}${r.path}`;
      await expectAnswer(url, r.body, auth, r.status, r.has);
      if (r.kind !== 'exchange') {
        await drive(url, r.body, auth, warmup);
        const nextFloor = await floor.now();
        const m = await drive(url, r.body, auth, settings);
        rows.push({ ...m, kind: r.kind, engine, label: r.label, rssMb: await gw.rssMb(), nextFloor });
        continue;
      }
      // Warm up, let that backlog drain, then measure from a known count at the GP.
      const warm = new Acknowledged();
      const start = await receivedCount(agency);
      await drive(url, r.body, auth, warmup, warm.collect);
      await drainMs(agency, start + warm.ids.size);
      const nextFloor = await floor.now();
      const before = await receivedCount(agency);
      const acks = new Acknowledged();
      const m = await drive(url, r.body, auth, settings, acks.collect);
      const rssMb = await gw.rssMb();
      const drain = (await drainMs(agency, before + acks.ids.size)) ?? 'over 60 s';
      const deliveries = await checkDeliveries(agency, before, acks);
      rows.push({ ...m, kind: r.kind, engine, label: r.label, rssMb, drain, deliveries, nextFloor });
    }
    return rows;
  } finally {
    await gw.stop();
  }
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function verdict(row: Row, ratio: number): string {
  if (row.kind === 'floor' || !row.engine) return '';
  const t = TARGETS[row.kind];
  const want = row.engine === 'PGlite' ? t.pglite : t.postgres;
  const misses = [
    ratio < want ? `× floor < ${want}` : '',
    row.p99 >= t.p99 ? `p99 ≥ ${t.p99} ms` : '',
    (row.rssMb ?? 0) >= RSS_TARGET_MB ? `RSS ≥ ${RSS_TARGET_MB} MB` : '',
    row.drain !== undefined && (row.drain === 'over 60 s' || row.drain > DRAIN_TARGET_MS)
      ? `drain > 2 s`
      : '',
    row.failed ? 'failures' : '',
    row.deliveries && (row.deliveries.lost || row.deliveries.doubled) ? 'lost/doubled' : '',
  ].filter(Boolean);
  return misses.length ? `missed: ${misses.join(', ')}` : 'met';
}

function printTable(rows: Row[]): void {
  const floor = rows.find((r) => r.kind === 'floor')!;
  console.log(
    '\n| target | store | req/s | floor next to it | × floor | p50 ms | p99 ms | RSS after load MB | drain after load | non-2xx/errors | targets |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratio = r.rps / (r.nextFloor ?? floor.rps);
    const drain = r.drain === undefined ? '' : typeof r.drain === 'string' ? r.drain : `${fmt(r.drain)} ms`;
    const name = r.engine ? `Ketenpoort ${r.label}, ${r.engine}` : r.label;
    console.log(
      `| ${name} | ${r.store ?? ''} | ${fmt(r.rps)} | ${fmt(r.nextFloor ?? r.rps)} | ${fmt(ratio, 3)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.rssMb)} | ${drain} | ${r.failed} | ${verdict(r, ratio)} |`,
    );
  }
  for (const r of rows.filter((x) => x.deliveries)) {
    const d = r.deliveries!;
    console.log(
      `\n$exchange on ${r.engine}: ${d.acknowledged} acknowledged (202), ${d.received} received by the GP; lost ${d.lost}, doubled ${d.doubled}, delivered but cut off before the 202 was read ${d.unacknowledged}. Answers: ${r.statuses}`,
    );
  }
}

export async function run(): Promise<void> {
  const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  console.log(
    `${settings.connections} connections, ${settings.seconds} s per target after ${warmup.seconds} s warm-up; ${availableParallelism()} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const floor = await Floor.start(JSON.stringify(JSON.parse(await exchangeBody())));
  try {
    await measureAll(floor, pgUrl);
  } finally {
    await floor.stop();
  }
  console.log(
    `\nload average after the run: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

async function measureAll(floor: Floor, pgUrl: string | undefined): Promise<void> {
  const rows: Row[] = [await floor.row()];
  if (scale)
    console.log(
      `store: sandbox fixtures plus ${scale.people.toLocaleString('en-US')} synthetic people and ${scale.auditEvents.toLocaleString('en-US')} audit events, seeded per engine before its gateway starts`,
    );
  // BENCH_ENGINES=postgresql (or pglite) measures one engine only: a store of 100,000 people takes minutes per engine.
  const engines = (process.env.BENCH_ENGINES ?? 'pglite,postgresql').toLowerCase().split(',');
  if (engines.includes('pglite')) rows.push(...(await measureGateway(floor, 'PGlite')));
  if (pgUrl && engines.includes('postgresql')) {
    const fresh = await freshPostgres(pgUrl);
    try {
      rows.push(...(await measureGateway(floor, 'PostgreSQL', fresh.url)));
    } finally {
      await fresh.drop();
    }
  } else
    console.log('  (set BENCH_DATABASE_URL or TEST_DATABASE_URL=postgres://… to measure on PostgreSQL too)');
  printTable(rows);
}
