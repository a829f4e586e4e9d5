// The throughput benchmark's own bookkeeping, against the real sandbox: statements are counted where they run, and the
// delivery check finds every acknowledged exchange at the GP exactly once (and notices a doubled one).
import { afterAll, describe, expect, it } from 'vitest';
import { areaOf } from '../bench/cpu-profile.js';
import { Acknowledged, checkDeliveries, drainMs, drive, receivedCount } from '../bench/http-load.js';
import { ROUTES } from '../bench/http-routes.js';
import { countingDatabase, StatementTally, statementKind } from '../bench/statements.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { ENGINES, freshDatabase, sandboxToken, testSandbox } from './helpers.js';

const GP = 'huisartsen-de-linde';
const running: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of running.reverse()) await stop();
});

async function route(kind: 'decision' | 'exchange') {
  return (await ROUTES()).find((r) => r.kind === kind)!;
}

describe('statement tally', () => {
  it('names a statement by its verb and the first table it reads or writes', () => {
    expect(statementKind('SELECT r.resource FROM resources r WHERE id = $1')).toBe('SELECT resources');
    expect(statementKind('INSERT INTO delivery_jobs (id) VALUES ($1)')).toBe('INSERT delivery_jobs');
    expect(statementKind('  UPDATE\n delivery_jobs SET status = $1')).toBe('UPDATE delivery_jobs');
    expect(statementKind('DELETE FROM sessions WHERE id = $1')).toBe('DELETE sessions');
  });

  for (const engine of ENGINES) {
    it(`counts the statements and the transaction of a decision over HTTP (${engine})`, async () => {
      const fresh = await freshDatabase(engine);
      const tally = new StatementTally();
      const sandbox = await testSandbox({ rateLimitApi: 0 }, countingDatabase(fresh.db, tally));
      running.push(async () => {
        await sandbox.close();
        await fresh.drop();
      });
      const decision = await route('decision');
      const token = await sandboxToken(sandbox, 'cjg');
      tally.reset();
      const res = await fetch(`${sandbox.url}${decision.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
        body: decision.body,
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('"permit"');
      expect(tally.total).toBeGreaterThan(1);
      expect(tally.transactions).toBeGreaterThanOrEqual(1);
      // The decision is audited before it is answered: its audit write is among the counted statements.
      expect([...tally.byKind.keys()].some((k) => k.includes('audit'))).toBe(true);
      expect(tally.lines(1).length).toBe(tally.byKind.size);
    });
  }
});

describe('exchange bookkeeping', () => {
  let sandbox: RunningSandbox;
  const agency = () => `${sandbox.url}/agencies/${GP}`;

  it('finds every exchange acknowledged under load at the GP exactly once', async () => {
    sandbox = await testSandbox({ rateLimitApi: 0 });
    running.push(() => sandbox.close());
    const exchange = await route('exchange');
    const auth = { authorization: `Bearer ${await sandboxToken(sandbox, 'cjg')}` };
    const before = await receivedCount(agency());
    const acks = new Acknowledged();
    const load = await drive(
      `${sandbox.url}${exchange.path}`,
      exchange.body,
      auth,
      { connections: 4, seconds: 1 },
      acks.collect,
    );
    expect(load.failed).toBe(0);
    expect(acks.ids.size).toBeGreaterThan(0);
    expect(await drainMs(agency(), before + acks.ids.size, 20_000)).toBeTypeOf('number');
    const check = await checkDeliveries(agency(), before, acks);
    expect(check).toMatchObject({ acknowledged: acks.ids.size, lost: 0, doubled: 0 });
    expect(check.received).toBe(acks.ids.size + check.unacknowledged);
    expect(await receivedCount(agency())).toBe(before + check.received);
  });

  it('reports a Bundle the GP received twice as doubled, and one never received as lost', async () => {
    const before = await receivedCount(agency());
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0d0d0d0d-0000-4000-8000-000000000001' },
    };
    for (let i = 0; i < 2; i++)
      await fetch(`${agency()}/fhir/Bundle`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(bundle),
      });
    const acks = new Acknowledged();
    acks.ids.add(bundle.identifier.value);
    acks.ids.add('urn:uuid:0d0d0d0d-0000-4000-8000-000000000002');
    expect(await checkDeliveries(agency(), before, acks)).toMatchObject({ received: 2, doubled: 1, lost: 1 });
  });
});

describe('CPU profile areas', () => {
  it('groups a sample by package, by folder of the compiled sources, or by node internals', () => {
    expect(areaOf('file:///work/main/node_modules/@electric-sql/pglite/dist/index.js', 'parse')).toBe(
      '@electric-sql/pglite',
    );
    expect(areaOf('file:///work/main/node_modules/express/lib/router.js', 'handle')).toBe('express');
    expect(areaOf('file:///work/main/dist/src/consent/engine.js', 'decide')).toBe('src/consent');
    expect(areaOf('node:internal/streams/writable', 'write')).toBe('node:internal');
    expect(areaOf('', '(garbage collector)')).toBe('(garbage collector)');
  });
});
