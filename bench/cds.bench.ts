// The LEAP consult over HTTP (POST /cds-services/patient-consent-consult on the sandbox, PGlite in memory) next to a
// bare express echo in the same run: what a consult costs above the HTTP stack itself.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startSandbox } from '../src/sandbox/index.js';
import { report } from './lib.js';

const N = 1_000;
const CONCURRENCY = 8;
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** N POSTs of the body by CONCURRENCY clients; throughput and latency. */
async function load(name: string, url: string, body: string, headers: Record<string, string>): Promise<void> {
  const latency: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < N) {
        const t = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        });
        if (res.status !== 200) throw new Error(`${name} answered ${res.status}`);
        await res.arrayBuffer();
        latency.push(performance.now() - t);
      }
    }),
  );
  const ms = performance.now() - start;
  latency.sort((a, b) => a - b);
  report({
    name,
    ops: N,
    perSecond: (N / ms) * 1000,
    p50Ms: percentile(latency, 50),
    p99Ms: percentile(latency, 99),
  });
}

export async function run(): Promise<void> {
  const echo = express();
  echo.use(express.json());
  echo.post('/', (req, res) => {
    res.json({ cards: [], echo: req.body as unknown });
  });
  const server = echo.listen(0);
  await new Promise((r) => server.once('listening', r));
  const sandbox = await startSandbox(
    loadConfig({ PORT: '0', DATA_DIR: 'memory://', LOG_LEVEL: 'silent' }, {}),
    {
      logger: pino({ level: 'silent' }),
    },
  );
  try {
    const token = (
      (await (
        await fetch(`${sandbox.url}/sandbox/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"clientId":"sandbox-cjg"}',
        })
      ).json()) as { access_token: string }
    ).access_token;
    // Noah (fixture family, 999910036): his parents consented to care coordination with the GP.
    const body = JSON.stringify({
      hook: 'patient-consent-consult',
      hookInstance: 'bench',
      context: {
        patientId: [{ system: BSN, value: '999910036' }],
        category: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
        purposeOfUse: 'CAREMGT',
        actor: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000107' }],
      },
    });
    const first = await fetch(`${sandbox.url}/cds-services/patient-consent-consult`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    const card = ((await first.json()) as { cards: { summary: string }[] }).cards[0]!;
    console.log(`  (the consult answers ${card.summary})`);
    const port = (server.address() as AddressInfo).port;
    await load(
      `bare express echo of the same body (${CONCURRENCY} clients)`,
      `http://127.0.0.1:${port}/`,
      body,
      {},
    );
    await load(
      `PGlite: LEAP consult, decided and audited (${CONCURRENCY} clients)`,
      `${sandbox.url}/cds-services/patient-consent-consult`,
      body,
      {
        authorization: `Bearer ${token}`,
      },
    );
  } finally {
    await sandbox.close();
    server.close();
  }
}
