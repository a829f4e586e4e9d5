// Fault drills on PostgreSQL: connections reset, storage away and back, a recipient that ignores If-None-Exist.
// (kill -9 of a gateway process during delivery: test/processes.test.ts.)
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import type { Config } from '../src/config.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import {
  carePlanPayload,
  exchangeParameters,
  fhir,
  freshDatabase,
  param,
  sandboxToken,
  testSandbox,
  waitFor,
} from './helpers.js';

const GP = 'Organization/huisartsen-de-linde';
const GP_ID = 'huisartsen-de-linde';
/** Noah (fixtures): his consent lets the CJG send to the GP for care management. */
const NOAH = '999910036';

/**
 * A TCP proxy between the gateway and PostgreSQL that a test can cut: all connections at once, the one connection
 * that next sends a statement matching a pattern, or every connection for a while (refusing new ones).
 */
class FaultProxy {
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server;
  private cutOn: { pattern: string; done: () => void } | undefined;
  port = 0;

  private constructor(private readonly target: URL) {
    this.server = this.listener();
  }

  static async start(databaseUrl: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(new URL(databaseUrl));
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  /** The database URL that goes through the proxy. */
  url(): string {
    const u = new URL(this.target);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  private listener(): net.Server {
    return net.createServer((client) => {
      const upstream = net.connect(Number(this.target.port || 5432), this.target.hostname);
      this.sockets.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('data', (chunk: Buffer) => {
        if (this.cutOn && chunk.includes(this.cutOn.pattern)) {
          const { done } = this.cutOn;
          this.cutOn = undefined;
          end();
          done();
          return;
        }
        upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
  }

  /** Resets every open connection (the gateway sees its connections drop). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Resets the connection that next sends a statement containing this text; resolves when it did. */
  cutNext(pattern: string): Promise<void> {
    return new Promise((done) => (this.cutOn = { pattern, done }));
  }

  /** Storage away: stops listening (connections are refused) and resets the open ones. */
  async refuse(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.cutAll();
    });
  }

  /** Storage back: listens on the same port again. */
  async accept(): Promise<void> {
    this.server = this.listener();
    await new Promise<void>((r) => this.server.listen(this.port, '127.0.0.1', r));
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => (this.server.listening ? this.server.close(() => r()) : r()));
  }
}

interface Drill {
  db: Database;
  sandbox: RunningSandbox;
  token: string;
  proxy?: FaultProxy;
}

/** A sandbox on a fresh PostgreSQL database (through the fault proxy, unless `direct`), with a CJG token. */
async function drill(
  overrides: Partial<Config> = {},
  opts: { direct?: boolean; applicationName?: string } = {},
): Promise<Drill> {
  const fresh = await freshDatabase('postgres');
  cleanups.push(() => fresh.drop());
  const proxy = opts.direct ? undefined : await FaultProxy.start(fresh.url!);
  if (proxy) cleanups.push(() => proxy.close());
  const url = new URL(proxy ? proxy.url() : fresh.url!);
  if (opts.applicationName) url.searchParams.set('application_name', opts.applicationName);
  const sandbox = await testSandbox({
    databaseUrl: url.toString(),
    deliveryPollMs: 50,
    deliveryRetryBaseMs: 100,
    deliveryRetryMaxMs: 400,
    agencyTimeoutMs: 1000,
    ...overrides,
  });
  cleanups.unshift(() => sandbox.close());
  return { db: fresh.db, sandbox, token: await sandboxToken(sandbox, 'cjg'), proxy };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0)) await clean().catch(() => undefined);
});

const exchangeOf = (i: number) =>
  exchangeParameters(GP, NOAH, 'CAREMGT', carePlanPayload(NOAH, `drill ${i}`));

interface Burst {
  /** Bundle identifiers of the exchanges answered 202. */
  accepted: string[];
  /** Statuses of every other answer, with the OperationOutcome's resourceType. */
  others: { status: number; resourceType?: string }[];
}

/** Sends n exchanges, `concurrency` at a time, and sorts the answers. */
async function burst(d: Drill, n: number, concurrency: number): Promise<Burst> {
  const result: Burst = { accepted: [], others: [] };
  let next = 0;
  const sender = async () => {
    while (next < n) {
      const res = await fhir<Parameters>(
        d.sandbox.url,
        d.token,
        'POST',
        '/fhir/$exchange',
        exchangeOf(next++),
      );
      if (res.status === 202)
        result.accepted.push((param(res.body, 'delivered')!.resource as Bundle).identifier!.value!);
      else
        result.others.push({
          status: res.status,
          resourceType: (res.body as { resourceType?: string }).resourceType,
        });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  return result;
}

/** Waits until no delivery job is pending; returns the jobs by status. */
async function settled(db: Database, timeoutMs = 30_000): Promise<Record<string, number>> {
  await waitFor(
    async () => {
      const [r] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM delivery_jobs WHERE status = 'pending'`,
      );
      return r!.n === 0 ? true : undefined;
    },
    timeoutMs,
    100,
  );
  const rows = await db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM delivery_jobs GROUP BY status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** How often the GP received each Bundle identifier. */
function receivedCounts(sandbox: RunningSandbox): Map<string, number> {
  const counts = new Map<string, number>();
  for (const b of sandbox.agencies.received(GP_ID)) {
    const id = b.identifier?.value ?? '';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/**
 * Every accepted exchange (and any exchange committed while its answer was lost) is delivered exactly once, none
 * cancelled; every Task of an exchange has its job and its audit record and the other way round.
 */
async function expectEachDeliveredOnce(d: Drill, result: Burst): Promise<void> {
  const byStatus = await settled(d.db);
  expect(byStatus.cancelled ?? 0).toBe(0);
  expect(byStatus.failed ?? 0).toBe(0);
  const counts = receivedCounts(d.sandbox);
  for (const id of result.accepted) expect(counts.get(id), `Bundle ${id}`).toBe(1);
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
  expect(counts.size).toBe(byStatus.delivered);
  const [whole] = await d.db.query<{ tasks: number; jobs: number; audits: number; left: number }>(
    `SELECT (SELECT count(*)::int FROM resources WHERE type = 'Task' AND content->'code'->'coding'->0->>'code' = 'exchange') AS tasks,
            (SELECT count(*)::int FROM delivery_jobs) AS jobs,
            (SELECT count(*)::int FROM audit_events WHERE subtype = 'exchange' AND outcome = 'success') AS audits,
            (SELECT count(*)::int FROM delivery_jobs WHERE bundle IS NOT NULL OR request IS NOT NULL) AS left`,
  );
  expect(whole).toEqual({
    tasks: byStatus.delivered,
    jobs: byStatus.delivered,
    audits: byStatus.delivered,
    left: 0,
  });
}

describe.runIf(process.env.TEST_DATABASE_URL)('fault drills on PostgreSQL', () => {
  it('retries a send-time re-check whose connection was reset instead of cancelling the exchange', async () => {
    const d = await drill({ deliveryRetryBaseMs: 600 });
    d.sandbox.agencies.setBehaviour(GP_ID, 'error');
    const res = await fhir<Parameters>(d.sandbox.url, d.token, 'POST', '/fhir/$exchange', exchangeOf(0));
    expect(res.status).toBe(202);
    // The first attempt meets a failing recipient and waits for its retry; the re-check of the retry loses its
    // connection: the first statement after the claim that reads the person index.
    await waitFor(async () => {
      const [job] = await d.db.query<{ last_error: string | null }>('SELECT last_error FROM delivery_jobs');
      return job?.last_error ? true : undefined;
    });
    const cut = d.proxy!.cutNext('FROM resources');
    d.sandbox.agencies.setBehaviour(GP_ID, 'ok');
    await cut;
    const byStatus = await settled(d.db);
    expect(byStatus).toEqual({ delivered: 1 });
    const task = await fhir<{ status: string }>(
      d.sandbox.url,
      d.token,
      'GET',
      `/fhir/${param(res.body, 'exchange')!.valueReference!.reference}`,
    );
    expect(task.body.status).toBe('completed');
    expect(d.sandbox.agencies.received(GP_ID)).toHaveLength(1);
  }, 30_000);

  it("delivers every accepted exchange exactly once while the gateway's connections are terminated every 150 ms", async () => {
    const d = await drill({}, { direct: true, applicationName: 'ketenpoort-drill' });
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    let terminating = true;
    const terminator = (async () => {
      while (terminating) {
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ketenpoort-drill'`,
        );
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    let result: Burst;
    try {
      result = await burst(d, 120, 4);
      // Keep terminating while the worker delivers what was accepted.
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      terminating = false;
      await terminator;
      await admin.end();
    }
    expect(result.accepted.length).toBeGreaterThan(0);
    for (const other of result.others)
      expect(other).toEqual({ status: 503, resourceType: 'OperationOutcome' });
    await expectEachDeliveredOnce(d, result);
  }, 60_000);

  it('answers 503 while storage is away, and delivers everything accepted exactly once when it is back', async () => {
    const d = await drill();
    const sending = burst(d, 60, 3);
    await waitFor(async () => (d.sandbox.agencies.received(GP_ID).length >= 5 ? true : undefined));
    await d.proxy!.refuse();
    const during = await fhir<OperationOutcome>(
      d.sandbox.url,
      d.token,
      'POST',
      '/fhir/$exchange',
      exchangeOf(999),
    );
    expect(during.status).toBe(503);
    expect(during.body.resourceType).toBe('OperationOutcome');
    await new Promise((r) => setTimeout(r, 1500));
    await d.proxy!.accept();
    const result = await sending;
    expect(result.others.length).toBeGreaterThan(0);
    for (const other of result.others)
      expect(other).toEqual({ status: 503, resourceType: 'OperationOutcome' });
    await expectEachDeliveredOnce(d, result);
  }, 60_000);

  it('does not post twice to a recipient that ignores If-None-Exist when recording the delivery loses its connection', async () => {
    const d = await drill();
    d.sandbox.agencies.setBehaviour(GP_ID, 'ignore-if-none-exist');
    const cut = d.proxy!.cutNext("status = 'delivered'");
    const res = await fhir<Parameters>(d.sandbox.url, d.token, 'POST', '/fhir/$exchange', exchangeOf(0));
    expect(res.status).toBe(202);
    await cut;
    // Long enough for the lease of the interrupted claim (three agency timeouts) to run out and be claimed again.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await settled(d.db)).toEqual({ delivered: 1 });
    expect(d.sandbox.agencies.posts(GP_ID)).toBe(1);
    expect(d.sandbox.agencies.received(GP_ID)).toHaveLength(1);
  }, 30_000);
});
