// Exchange throughput over HTTP on the sandbox (PGlite in memory): accepted exchanges/s and time to delivery.
import type { Parameters } from '@medplum/fhirtypes';
import { loadConfig } from '../src/config.js';
import { startSandbox } from '../src/sandbox/index.js';
import { bench } from './lib.js';

export async function run(): Promise<void> {
  const sandbox = await startSandbox(
    loadConfig({ PORT: '0', DATA_DIR: 'memory://', LOG_LEVEL: 'silent' }, { deliveryPollMs: 20 }),
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
                },
              },
            ],
          },
        },
      ],
    } satisfies Parameters);
    const n = 300;
    const t0 = performance.now();
    await bench(
      '$exchange accepted (HTTP, decide, audit + outbox, PGlite)',
      async () => {
        const res = await fetch(`${sandbox.url}/fhir/$exchange`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
          body,
        });
        if (res.status !== 202) throw new Error(`exchange answered ${res.status}`);
        await res.arrayBuffer();
      },
      { iterations: n, warmup: 20 },
    );
    const start = performance.now();
    const expected = n + 20;
    while (sandbox.agencies.received('huisartsen-de-linde').length < expected) {
      if (performance.now() - start > 60_000) throw new Error('deliveries did not finish within 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const totalMs = performance.now() - t0;
    console.log(
      `${'delivered to the simulated GP (end to end, incl. warm-up)'.padEnd(58)} ${((expected / totalMs) * 1000).toFixed(0).padStart(9)} /s   all ${expected} delivered ${(performance.now() - start).toFixed(0)} ms after the last accept`,
    );
  } finally {
    await sandbox.close();
  }
}
