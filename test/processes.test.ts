// Real processes on one PostgreSQL: kill -9 during delivery, two gateways side by side, storage going away.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { pino } from 'pino';
import type { GatewayContext } from '../src/context.js';
import { SimulatedAgencies } from '../src/sandbox/agencies.js';
import { seedSandbox } from '../src/sandbox/seed.js';
import { loadFhirDefinitions } from '../src/mappings/validate.js';
import { startGateway } from '../src/server.js';
import type { Database } from '../src/store/database.js';
import {
  carePlanPayload,
  clientAssertion,
  exchangeParameters,
  fhir,
  freshDatabase,
  questionAbout,
  verdictOf,
  requestToken,
  testConfig,
  waitFor,
} from './helpers.js';

const GP = 'Organization/huisartsen-de-linde';
const GP_ID = 'huisartsen-de-linde';
const NOAH = '999910036';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The simulated agencies, outside the gateway processes, so that they outlive a kill. */
async function agencyServer(): Promise<{
  agencies: SimulatedAgencies;
  base: string;
  close(): Promise<void>;
}> {
  const agencies = new SimulatedAgencies([
    'cjg-venlo',
    'jeugdzorg-horizon',
    GP_ID,
    'school-de-wilgen',
    'gi-jeugdbescherming-zuid',
    'gemeente-venlo',
    'veilig-thuis-noord-limburg',
    'rvdk-roermond',
    'onderzoek-jeugd',
  ]);
  const server: Server = express().use('/agencies', agencies.router()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    agencies,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/agencies`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function seed(db: Database, agenciesBase: string): Promise<void> {
  loadFhirDefinitions();
  await seedSandbox({ db, config: testConfig() } as GatewayContext, agenciesBase);
}

interface GatewayProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function spawnGateway(databaseUrl: string): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      BASE_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'error',
      DELIVERY_POLL_MS: '50',
      DELIVERY_RETRY_BASE_MS: '100',
      DELIVERY_RETRY_MAX_MS: '500',
      AGENCY_TIMEOUT_MS: '2000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () =>
      (await fetch(`${url}/ready`)
        .then((r) => r.ok)
        .catch(() => false)) || undefined,
    30_000,
    200,
  );
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function tokenFor(url: string, clientId: string): Promise<string> {
  const res = await requestToken(url, await clientAssertion(`${url}/auth/token`, clientId));
  return ((await res.json()) as { access_token: string }).access_token;
}

const payload = (n: number): Bundle => carePlanPayload(NOAH, `plan ${n}`);

/** Sends n exchanges with a few in flight at a time; returns how many were accepted (202). */
async function sendMany(
  targets: { url: string; token: string }[],
  n: number,
  concurrency: number,
  stopWhen?: () => boolean,
): Promise<number> {
  let next = 0;
  let accepted = 0;
  const worker = async () => {
    while (next < n && !stopWhen?.()) {
      const i = next++;
      const t = targets[i % targets.length]!;
      try {
        const res = await fhir(
          t.url,
          t.token,
          'POST',
          '/fhir/$exchange',
          exchangeParameters(GP, NOAH, 'CAREMGT', payload(i)),
        );
        if (res.status === 202) accepted++;
      } catch {
        // The process was killed while this request was in flight: not accepted as far as the client knows.
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return accepted;
}

describe.runIf(process.env.TEST_DATABASE_URL)('gateway processes on one PostgreSQL', () => {
  let agency: Awaited<ReturnType<typeof agencyServer>>;
  beforeAll(async () => {
    agency = await agencyServer();
  });
  afterAll(() => agency?.close());

  it('delivers every accepted exchange exactly once after a kill -9 during delivery', async () => {
    const { db, url, drop } = await freshDatabase('postgres');
    let a: GatewayProcess | undefined;
    let b: GatewayProcess | undefined;
    try {
      await seed(db, agency.base);
      agency.agencies.setDelay(GP_ID, 40);
      const before = agency.agencies.received(GP_ID).length;
      a = await spawnGateway(url!);
      const token = await tokenFor(a.url, 'sandbox-cjg');
      const sending = sendMany([{ url: a.url, token }], 200, 6);
      await waitFor(
        async () => (agency.agencies.received(GP_ID).length - before >= 40 ? true : undefined),
        60_000,
        20,
      );
      a.child.kill('SIGKILL');
      const accepted = await sending;
      b = await spawnGateway(url!);
      const [counted] = await db.query<{ jobs: number }>('SELECT count(*)::int AS jobs FROM delivery_jobs');
      const jobs = counted!.jobs;
      expect(jobs).toBeGreaterThanOrEqual(accepted);
      await waitFor(
        async () => {
          const [r] = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM delivery_jobs WHERE status = 'delivered'`,
          );
          return r!.n === jobs ? true : undefined;
        },
        90_000,
        200,
      );
      const received = agency.agencies.received(GP_ID).slice(before);
      expect(new Set(received.map((x) => x.identifier?.value)).size).toBe(received.length);
      expect(received.length).toBe(jobs);
      const [audit] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_events WHERE subtype = 'exchange' AND outcome = 'success'`,
      );
      expect(audit!.n).toBe(jobs);
      const [leftovers] = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM delivery_jobs WHERE bundle IS NOT NULL',
      );
      expect(leftovers!.n).toBe(0);
    } finally {
      agency.agencies.setDelay(GP_ID, 0);
      await a?.stop();
      await b?.stop();
      await drop();
    }
  }, 180_000);

  it('lets two gateway processes deliver 1,000 exchanges, each exactly once', async () => {
    const { db, url, drop } = await freshDatabase('postgres');
    let a: GatewayProcess | undefined;
    let b: GatewayProcess | undefined;
    try {
      await seed(db, agency.base);
      const before = agency.agencies.received(GP_ID).length;
      const postsBefore = agency.agencies.posts(GP_ID);
      [a, b] = await Promise.all([spawnGateway(url!), spawnGateway(url!)]);
      const targets = [
        { url: a.url, token: await tokenFor(a.url, 'sandbox-cjg') },
        { url: b.url, token: await tokenFor(b.url, 'sandbox-cjg') },
      ];
      expect(await sendMany(targets, 1000, 16)).toBe(1000);
      await waitFor(
        async () => (agency.agencies.received(GP_ID).length - before === 1000 ? true : undefined),
        120_000,
        200,
      );
      await new Promise((r) => setTimeout(r, 500));
      const received = agency.agencies.received(GP_ID).slice(before);
      expect(new Set(received.map((x) => x.identifier?.value)).size).toBe(1000);
      expect(agency.agencies.posts(GP_ID) - postsBefore).toBe(1000);
      const [r] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM delivery_jobs WHERE status = 'delivered' AND attempts = 1`,
      );
      expect(r!.n).toBe(1000);
    } finally {
      await a?.stop();
      await b?.stop();
      await drop();
    }
  }, 240_000);
});

describe.runIf(process.env.TEST_DATABASE_URL)('facts kept in memory, two processes', () => {
  it('honours a consent withdrawn through one process in the very next decision of the other', async () => {
    const { db, url, drop } = await freshDatabase('postgres');
    let a: GatewayProcess | undefined;
    let b: GatewayProcess | undefined;
    try {
      await seed(db, 'http://127.0.0.1:9/agencies');
      [a, b] = await Promise.all([spawnGateway(url!), spawnGateway(url!)]);
      const tokenA = await tokenFor(a.url, 'sandbox-cjg');
      const tokenB = await tokenFor(b.url, 'sandbox-cjg');
      const ask = async () => {
        const res = await fhir<Parameters>(
          b!.url,
          tokenB,
          'POST',
          '/fhir/$consent-decision',
          questionAbout(NOAH, GP),
        );
        expect(res.status).toBe(200);
        return res.body;
      };
      const restingOn = (p: Parameters) =>
        (p.parameter ?? []).filter((x) => x.name === 'consent').map((x) => x.valueReference!.reference!);
      // B decides (and keeps Noah's facts) several times before anything changes.
      for (let i = 0; i < 3; i++) expect(verdictOf(await ask())).toBe('permit');
      const withdrawn = new Set<string>();
      let answer = await ask();
      while (verdictOf(answer) === 'permit') {
        const consent = restingOn(answer).find((c) => !withdrawn.has(c));
        expect(consent).toBeDefined();
        const res = await fhir(a.url, tokenA, 'POST', `/fhir/${consent!}/$withdraw`, {});
        expect(res.status).toBe(200);
        withdrawn.add(consent!);
        // No waiting: the next decision in the other process must not rest on what was just withdrawn.
        answer = await ask();
        for (const c of restingOn(answer)) expect(withdrawn.has(c)).toBe(false);
      }
      expect(withdrawn.size).toBeGreaterThan(0);
      expect(verdictOf(answer)).toBe('deny');
    } finally {
      await a?.stop();
      await b?.stop();
      await drop();
    }
  }, 120_000);
});

describe.runIf(process.env.TEST_DATABASE_URL)('storage going away', () => {
  it('answers 503 with an OperationOutcome, sends nothing, and recovers when the database is back', async () => {
    const { db, url, drop } = await freshDatabase('postgres');
    const agency = await agencyServer();
    const target = new URL(url!);
    // A TCP proxy in front of PostgreSQL that the test can cut.
    const sockets = new Set<net.Socket>();
    let proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => (client.destroy(), upstream.destroy());
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyPort = (proxy.address() as AddressInfo).port;
    const viaProxy = new URL(url!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxyPort);
    await seed(db, agency.base);
    const gateway = await startGateway(
      testConfig({ databaseUrl: viaProxy.toString(), clientsFile: 'fixtures/clients.json' }),
      { logger: pino({ level: 'silent' }) },
    );
    try {
      const token = await tokenFor(gateway.url, 'sandbox-cjg');
      expect(
        (
          await fhir(
            gateway.url,
            token,
            'POST',
            '/fhir/$exchange',
            exchangeParameters(GP, NOAH, 'CAREMGT', payload(0)),
          )
        ).status,
      ).toBe(202);
      await waitFor(async () => (agency.agencies.received(GP_ID).length === 1 ? true : undefined));
      await new Promise<void>((r) => {
        proxy.close(() => r());
        for (const s of sockets) s.destroy();
      });
      const down = await fhir<OperationOutcome>(
        gateway.url,
        token,
        'POST',
        '/fhir/$exchange',
        exchangeParameters(GP, NOAH, 'CAREMGT', payload(1)),
      );
      expect(down.status).toBe(503);
      expect(down.body.resourceType).toBe('OperationOutcome');
      expect((await fetch(`${gateway.url}/ready`)).status).toBe(503);
      await new Promise((r) => setTimeout(r, 500));
      expect(agency.agencies.received(GP_ID)).toHaveLength(1);
      proxy = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
      await waitFor(
        async () => ((await fetch(`${gateway.url}/ready`)).status === 200 ? true : undefined),
        10_000,
        200,
      );
      expect(
        (
          await fhir(
            gateway.url,
            token,
            'POST',
            '/fhir/$exchange',
            exchangeParameters(GP, NOAH, 'CAREMGT', payload(2)),
          )
        ).status,
      ).toBe(202);
    } finally {
      await gateway.close();
      await new Promise<void>((r) => proxy.close(() => r()));
      await agency.close();
      await drop();
    }
  }, 60_000);
});
