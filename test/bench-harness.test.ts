// The throughput benchmark's own bookkeeping, against the real sandbox: statements are counted where they run, and the
// delivery check finds every acknowledged exchange at the GP exactly once (and notices a doubled one).
import { afterAll, describe, expect, it } from 'vitest';
import { areaOf } from '../bench/cpu-profile.js';
import { Acknowledged, checkDeliveries, drainMs, drive, receivedCount } from '../bench/http-load.js';
import { ROUTES } from '../bench/http-routes.js';
import { familyRows, scaleBsns, scaleFamily, seedScale, SCALE_ORG } from '../bench/scale-seed.js';
import { countingDatabase, StatementTally, statementKind } from '../bench/statements.js';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { verifyChain } from '../src/audit/chain.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { BSN_SYSTEM } from '../src/store/resources.js';
import {
  ENGINES,
  fhir,
  freshDatabase,
  NOAH,
  reasonCodes,
  sandboxToken,
  testSandbox,
  verdictOf,
} from './helpers.js';

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

describe('scale seeder', () => {
  it('adds people the gateway finds and decides like created ones, and audit events that keep the chain verifiable', async () => {
    const fresh = await freshDatabase('pglite');
    const now = new Date();
    const seeded = await seedScale(fresh.db, {
      people: 200,
      auditEvents: 2000,
      familiesPerBatch: 40,
      auditPerBatch: 500,
      now,
      log: () => undefined,
    });
    expect(seeded).toMatchObject({ people: 200, families: 100, resources: 900, auditEvents: 2000 });
    const counts = async (table: string) =>
      Object.fromEntries(
        (
          await fresh.db.query<{ type: string; n: number }>(
            `SELECT type, count(*)::int AS n FROM ${table} WHERE id LIKE '5ca1e000-%' GROUP BY type`,
          )
        ).map((r) => [r.type, r.n]),
      );
    const perType = { Patient: 200, RelatedPerson: 400, Group: 100, Consent: 200 };
    expect(await counts('resources')).toEqual(perType);
    expect(await counts('resource_history')).toEqual(perType);
    expect(await counts('resource_orgs')).toEqual(perType);
    expect((await fresh.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events'))[0]!.n).toBe(
      2000,
    );
    expect(await verifyChain(fresh.db)).toMatchObject({ valid: true, count: 2000 });

    // The sandbox loads its fixtures on top; family 100 is then created through the API, as a CJG would.
    const sandbox = await testSandbox({ rateLimitApi: 0 }, fresh.db);
    running.push(async () => {
      await sandbox.close();
      await fresh.drop();
    });
    const token = await sandboxToken(sandbox, 'cjg');
    const bsns = scaleBsns(4 * 101);
    expect(bsns.every((b) => /^99/.test(b)) && new Set(bsns).size).toBe(404);
    const bundle = scaleFamily(100, bsns.slice(400), now);
    const created = await fhir<Bundle>(sandbox.url, token, 'POST', '/fhir', bundle);
    expect(created.status).toBe(200);

    // Its rows equal the seeder's rows for the same family, ids and timestamps aside.
    const apiIds = created.body.entry!.map((e) => e.resource!.id!);
    const expected = familyRows(100, bsns.slice(400), now, now);
    const asSeeded = (text: string) =>
      apiIds.reduce((t, id, i) => t.split(id).join(expected.resources[i]!.id), text);
    const rows = await fresh.db.query<{
      type: string;
      id: string;
      unique_key: string | null;
      content: object;
    }>('SELECT type, id, unique_key, content FROM resources WHERE id = ANY($1::text[])', [apiIds]);
    // lastUpdated aside: the API stamps its own moment.
    const shape = (r: { type: string; id: string; unique_key: string | null; content: object }) => ({
      type: r.type,
      id: r.id,
      unique_key: r.unique_key,
      content: { ...r.content, meta: { versionId: '1' } },
    });
    const byKey = (a: { type: string; id: string }, b: { type: string; id: string }) =>
      a.type.localeCompare(b.type) || a.id.localeCompare(b.id);
    expect(
      rows.map((r) => shape(JSON.parse(asSeeded(JSON.stringify(r))) as (typeof rows)[number])).sort(byKey),
    ).toEqual(expected.resources.map(shape).sort(byKey));
    const sortTokens = (t: object[]) => t.map((x) => JSON.stringify(x)).sort();
    const tokens = await fresh.db.query(
      'SELECT type, id, param, system, value FROM resource_tokens WHERE id = ANY($1::text[])',
      [apiIds],
    );
    expect(sortTokens(tokens.map((t) => JSON.parse(asSeeded(JSON.stringify(t))) as object))).toEqual(
      sortTokens(expected.tokens),
    );
    const orgs = await fresh.db.query<{ org: string }>(
      'SELECT org FROM resource_orgs WHERE id = ANY($1::text[])',
      [apiIds],
    );
    expect(orgs.map((o) => o.org)).toEqual(apiIds.map(() => SCALE_ORG));

    // The gateway's own search finds a seeded child; decisions about seeded children (family 92: the same ages as
    // family 100) are those about the created ones, and child A's is Noah's.
    const search = await fhir<Bundle>(
      sandbox.url,
      token,
      'GET',
      `/fhir/Patient?identifier=${BSN_SYSTEM}|${bsns[368]}`,
    );
    expect(search.body.total).toBe(1);
    const decide = async (bsn: string) => {
      const decision = JSON.parse(
        (await ROUTES()).find((r) => r.kind === 'decision')!.body.replace(NOAH, bsn),
      );
      const res = await fhir<Parameters>(sandbox.url, token, 'POST', '/fhir/$consent-decision', decision);
      expect(res.status).toBe(200);
      return {
        verdict: verdictOf(res.body),
        reasons: reasonCodes(res.body),
        names: res.body.parameter!.map((p) => p.name),
      };
    };
    const noah = await decide(NOAH);
    expect(noah.verdict).toBe('permit');
    expect(await decide(bsns[368]!)).toEqual(await decide(bsns[400]!));
    expect(await decide(bsns[368]!)).toEqual(noah);
    // Child B's consent names the youth care provider only: the GP is refused, alike for both.
    expect((await decide(bsns[369]!)).verdict).toBe('deny');
    expect(await decide(bsns[369]!)).toEqual(await decide(bsns[401]!));
    expect(await verifyChain(fresh.db)).toMatchObject({ valid: true });
  });
});
