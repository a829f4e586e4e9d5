// Exchange throughput over HTTP on the sandbox: accepted exchanges/s, delivered exchanges/s, delivery latency.
// Runs on PGlite in memory, and also on PostgreSQL when BENCH_DATABASE_URL is set.
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startSandbox } from '../src/sandbox/index.js';
import { openDatabase } from '../src/store/open.js';
import { report } from './lib.js';

const N = 400;
const CONCURRENCY = 8;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function runOn(label: string, databaseUrl?: string): Promise<void> {
  const db = databaseUrl ? await openDatabase({ databaseUrl }) : undefined;
  const sandbox = await startSandbox(
    // Throughput of one client: its rate limit (RATE_LIMIT_API) is off here.
    loadConfig(
      { PORT: '0', DATA_DIR: 'memory://', LOG_LEVEL: 'silent' },
      { deliveryPollMs: 20, rateLimitApi: 0 },
    ),
    { db, logger: pino({ level: 'silent' }) },
  );
  try {
    const token = (
      (await (
        await fetch(`${sandbox.url}/sandbox/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"clientId":"sandbox-cjg"}',
        })
      ).json()) as {
        access_token: string;
      }
    ).access_token;
    const body = JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        { name: 'recipient', valueReference: { reference: 'Organization/huisartsen-de-linde' } },
        {
          name: 'subject',
          valueIdentifier: { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910036' },
        },
        {
          name: 'purpose',
          valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
        },
        {
          name: 'payload',
          resource: {
            resourceType: 'Bundle',
            type: 'collection',
            entry: [
              {
                resource: {
                  resourceType: 'Patient',
                  identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910036' }],
                  birthDate: '2017-03-14',
                },
              },
              {
                resource: {
                  resourceType: 'CarePlan',
                  status: 'active',
                  intent: 'plan',
                  subject: {
                    identifier: { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910036' },
                  },
                },
              },
            ],
          },
        },
      ],
    } satisfies Parameters);
    const accepted = new Map<string, number>();
    const acceptLatency: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < N) {
          const t = performance.now();
          const res = await fetch(`${sandbox.url}/fhir/$exchange`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
            body,
          });
          if (res.status !== 202) throw new Error(`exchange answered ${res.status}`);
          const out = (await res.json()) as Parameters;
          const done = performance.now();
          acceptLatency.push(done - t);
          accepted.set(
            (out.parameter!.find((p) => p.name === 'delivered')!.resource as Bundle).identifier!.value!,
            done,
          );
        }
      }),
    );
    const acceptMs = performance.now() - start;
    const arrivals = sandbox.agencies.arrivals('huisartsen-de-linde');
    while ([...accepted.keys()].some((id) => !arrivals.has(id))) {
      if (performance.now() - start > 120_000) throw new Error('deliveries did not finish within 120 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const deliveredMs = Math.max(...[...accepted.keys()].map((id) => arrivals.get(id)!)) - start;
    const sortedAccept = acceptLatency.sort((a, b) => a - b);
    report({
      name: `${label}: $exchange accepted (${CONCURRENCY} clients)`,
      ops: N,
      perSecond: (N / acceptMs) * 1000,
      p50Ms: percentile(sortedAccept, 50),
      p99Ms: percentile(sortedAccept, 99),
    });
    const delivery = [...accepted.entries()].map(([id, t]) => arrivals.get(id)! - t).sort((a, b) => a - b);
    report({
      name: `${label}: delivered (latency accept → recipient)`,
      ops: N,
      perSecond: (N / deliveredMs) * 1000,
      p50Ms: percentile(delivery, 50),
      p99Ms: percentile(delivery, 99),
    });
  } finally {
    await sandbox.close();
    await db?.close();
  }
}

export async function run(): Promise<void> {
  await runOn('PGlite');
  if (process.env.BENCH_DATABASE_URL) await runOn('PostgreSQL', process.env.BENCH_DATABASE_URL);
  else console.log('  (set BENCH_DATABASE_URL=postgres://… to measure on PostgreSQL too)');
}
