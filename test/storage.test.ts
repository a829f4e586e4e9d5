// Storage contract: the same behaviour on embedded PGlite and on a PostgreSQL server (TEST_DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Consent, Patient } from '@medplum/fhirtypes';
import { verifyChain } from '../src/audit/chain.js';
import { appendAudit } from '../src/audit/log.js';
import { migrate, type Database } from '../src/store/database.js';
import {
  createResource,
  findByUniqueKey,
  readResource,
  searchResources,
  updateResource,
  readAsOf,
  resourcesAsOf,
} from '../src/store/resources.js';
import { ENGINES, freshDatabase, patientResource, testBsn } from './helpers.js';

const event = (n: number): AuditEvent => ({
  resourceType: 'AuditEvent',
  type: { code: 'rest' },
  recorded: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  agent: [{ requestor: true, who: { reference: 'Organization/cjg-venlo' } }],
  source: { observer: { display: 'test' } },
  outcomeDesc: `event ${n}`,
});

describe.each(ENGINES)('storage on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
  });
  afterAll(() => drop());

  it('applies migrations once; running them again changes nothing', async () => {
    expect(await migrate(db)).toEqual([]);
    const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations');
    expect(rows.length).toBeGreaterThan(0);
  });

  it('creates, reads and updates a resource with versions and metadata', async () => {
    const bsn = testBsn();
    const created = await db.transaction((tx) =>
      createResource<Patient>(tx, patientResource(bsn, '2014-06-01'), 'Organization/a', `Patient|${bsn}`),
    );
    expect(created.meta?.versionId).toBe('1');
    const read = await readResource<Patient>(db, 'Patient', created.id!);
    expect(read?.resource.identifier?.[0]?.value).toBe(bsn);
    const updated = await db.transaction((tx) =>
      updateResource(tx, { ...read!.resource, id: created.id!, gender: 'female' }, `Patient|${bsn}`),
    );
    expect(updated.meta?.versionId).toBe('2');
    expect((await readResource<Patient>(db, 'Patient', created.id!))?.resource.gender).toBe('female');
    expect((await findByUniqueKey<Patient>(db, `Patient|${bsn}`))?.id).toBe(created.id);
  });

  it('refuses a second resource with the same unique key', async () => {
    const bsn = testBsn();
    await db.transaction((tx) =>
      createResource(tx, patientResource(bsn, '2014-06-01'), 'Organization/a', `Patient|${bsn}`),
    );
    await expect(
      db.transaction((tx) =>
        createResource(tx, patientResource(bsn, '2014-06-01'), 'Organization/b', `Patient|${bsn}`),
      ),
    ).rejects.toThrow();
  });

  it('rolls back everything a failed transaction wrote', async () => {
    const bsn = testBsn();
    await expect(
      db.transaction(async (tx) => {
        await createResource(tx, patientResource(bsn, '2014-06-01'), 'Organization/a', `Patient|${bsn}`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await findByUniqueKey(db, `Patient|${bsn}`)).toBeUndefined();
  });

  it('searches by identifier, by chained patient identifier, and only within an organisation', async () => {
    const bsn = testBsn();
    const patient = await db.transaction((tx) =>
      createResource(tx, patientResource(bsn, '2016-01-01'), 'Organization/owner', `Patient|${bsn}`),
    );
    await db.transaction((tx) =>
      createResource(
        tx,
        { resourceType: 'RelatedPerson', patient: { reference: `Patient/${patient.id}` } },
        'Organization/owner',
      ),
    );
    const byId = await searchResources(db, {
      type: 'Patient',
      criteria: [
        { param: 'identifier', values: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: bsn }] },
      ],
      count: 10,
      offset: 0,
      sort: 'asc',
    });
    expect(byId.total).toBe(1);
    const chained = { param: 'patient', chainedIdentifier: true, values: [{ value: bsn }] };
    expect(
      (
        await searchResources(db, {
          type: 'RelatedPerson',
          criteria: [chained],
          count: 10,
          offset: 0,
          sort: 'asc',
        })
      ).total,
    ).toBe(1);
    expect(
      (
        await searchResources(db, {
          type: 'RelatedPerson',
          criteria: [chained],
          org: 'Organization/owner',
          count: 10,
          offset: 0,
          sort: 'asc',
        })
      ).total,
    ).toBe(1);
    expect(
      (
        await searchResources(db, {
          type: 'RelatedPerson',
          criteria: [chained],
          org: 'Organization/other',
          count: 10,
          offset: 0,
          sort: 'asc',
        })
      ).total,
    ).toBe(0);
  });

  it('keeps every version with its period, so a resource can be read as of a past moment', async () => {
    const bsn = testBsn();
    const created = await db.transaction((tx) =>
      createResource<Patient>(tx, patientResource(bsn, '2014-06-01'), 'Organization/a', `Patient|${bsn}`),
    );
    const consent = await db.transaction((tx) =>
      createResource(
        tx,
        {
          resourceType: 'Consent',
          status: 'active',
          patient: { reference: `Patient/${created.id}` },
        } as never,
        'Organization/a',
      ),
    );
    await new Promise((r) => setTimeout(r, 10));
    const between = new Date();
    await new Promise((r) => setTimeout(r, 10));
    await db.transaction((tx) =>
      updateResource(tx, {
        ...(consent as object),
        id: (consent as { id: string }).id,
        status: 'inactive',
      } as never),
    );
    const then = await resourcesAsOf<Consent>(db, 'Consent', [`Patient/${created.id}`], between);
    const now = await resourcesAsOf<Consent>(db, 'Consent', [`Patient/${created.id}`], new Date());
    expect(then.map((c) => c.status)).toEqual(['active']);
    expect(now.map((c) => c.status)).toEqual(['inactive']);
    expect(await readAsOf<Patient>(db, 'Patient', created.id!, new Date(0))).toBeUndefined();
  });

  it('chains audit events by hash, and concurrent appends keep one valid chain', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction((tx) =>
          appendAudit(tx, event(i), { action: 'E', subtype: 'test', outcome: 'success' }),
        ),
      ),
    );
    const result = await verifyChain(db);
    expect(result).toMatchObject({ valid: true, count: 20, checkpoints: 0, from: 1 });
  });

  it.runIf(engine === 'postgres')(
    'gives a second concurrent writer its own chain instead of making it wait, and both chains verify',
    async () => {
      let held!: () => void;
      let release!: () => void;
      const holding = new Promise<void>((r) => (held = r));
      const gate = new Promise<void>((r) => (release = r));
      const first = db.transaction(async (tx) => {
        await appendAudit(tx, event(100), { action: 'E', subtype: 'test', outcome: 'success' });
        held();
        await gate; // keeps its chain head locked until the other writer is done
        await appendAudit(tx, event(101), { action: 'E', subtype: 'test', outcome: 'success' });
      });
      await holding;
      const started = performance.now();
      await db.transaction((tx) =>
        appendAudit(tx, event(102), { action: 'E', subtype: 'test', outcome: 'success' }),
      );
      const waited = performance.now() - started;
      release();
      await first;
      const rows = await db.query<{ chain: number; outcome_desc: string }>(
        `SELECT chain, content->>'outcomeDesc' AS outcome_desc FROM audit_events WHERE content->>'outcomeDesc' IN ('event 100', 'event 101', 'event 102') ORDER BY seq`,
      );
      const chainOf = Object.fromEntries(rows.map((r) => [r.outcome_desc, r.chain]));
      expect(chainOf['event 100']).toBe(chainOf['event 101']); // one transaction keeps to one chain
      expect(chainOf['event 102']).not.toBe(chainOf['event 100']);
      expect(waited).toBeLessThan(5000);
      const result = await verifyChain(db);
      expect(result.valid).toBe(true);
      expect(result.chains).toBeGreaterThanOrEqual(2);
    },
  );

  it('appends a batch of events to one chain in one statement, in order', async () => {
    const { appendAudits } = await import('../src/audit/log.js');
    const stored = await db.transaction((tx) =>
      appendAudits(
        tx,
        [200, 201, 202].map((n) => ({
          event: event(n),
          index: { action: 'E', subtype: 'test', outcome: 'success' },
        })),
      ),
    );
    const rows = await db.query<{ id: string; chain: number; link: number }>(
      'SELECT id, chain, link::int AS link FROM audit_events WHERE id = ANY($1::text[]) ORDER BY link',
      [stored.map((e) => e.id)],
    );
    expect(rows.map((r) => r.id)).toEqual(stored.map((e) => e.id));
    expect(new Set(rows.map((r) => r.chain)).size).toBe(1);
    expect(rows[2]!.link - rows[0]!.link).toBe(2);
    expect((await verifyChain(db)).valid).toBe(true);
  });

  it('refuses updates, deletes and TRUNCATE of audit events', async () => {
    await expect(db.query(`UPDATE audit_events SET outcome = 'denied'`)).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    expect((await verifyChain(db)).valid).toBe(true);
  });

  it('finds an event that belongs to no known chain, above or between the chain heads', async () => {
    const insertAs = (chain: number) =>
      db.query(
        `INSERT INTO audit_events (seq, chain, link, id, recorded, action, subtype, outcome, content, prev_hash, hash)
         VALUES (nextval('audit_events_seq'), $1, 1000000, $2, now(), 'E', 'test', 'success', '{}'::json, 'x', 'y')`,
        [chain, `stray-${chain}`],
      );
    const removeAll = async () => {
      await db.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
      await db.query(`DELETE FROM audit_events WHERE id LIKE 'stray-%'`);
      await db.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    };
    await insertAs(42);
    expect((await verifyChain(db)).firstInvalid).toMatchObject({
      chain: 42,
      problem: 'an event belongs to no known chain',
    });
    await removeAll();
    // A chain whose head row is gone: its events belong to no known chain any more.
    const [head] = await db.query<Record<string, unknown>>('SELECT * FROM audit_chain_head WHERE id = 15');
    await db.query('DELETE FROM audit_chain_head WHERE id = 15');
    await insertAs(15);
    expect((await verifyChain(db)).firstInvalid).toMatchObject({
      chain: 15,
      problem: 'an event belongs to no known chain',
    });
    await removeAll();
    await db.query('INSERT INTO audit_chain_head (id, link, hash) VALUES ($1, $2, $3)', [
      head!.id,
      head!.link,
      head!.hash,
    ]);
    expect((await verifyChain(db)).valid).toBe(true);
  });

  it('finds the exact position of an altered audit event', async () => {
    const [last] = await db.query<{ chain: number; link: number }>(
      'SELECT chain, link::int AS link FROM audit_events ORDER BY seq DESC LIMIT 1',
    );
    await db.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    await db.query(
      `UPDATE audit_events SET content = jsonb_set(content::jsonb, '{outcomeDesc}', '"forged"') WHERE chain = $1 AND link = $2`,
      [last!.chain, last!.link],
    );
    await db.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    for (const recompute of ['database', 'verifier'] as const) {
      const result = await verifyChain(db, { recompute });
      expect(result.valid).toBe(false);
      expect(result.firstInvalid).toMatchObject({
        chain: last!.chain,
        seq: last!.link,
        problem: 'the content does not match its hash',
      });
    }
  });

  it('lets concurrent claimers take each outbox job exactly once (SKIP LOCKED)', async () => {
    const n = 30;
    for (let i = 0; i < n; i++) {
      await db.query(
        `INSERT INTO delivery_jobs (id, task_id, sender_org, recipient_org, endpoint_url, bundle, status, next_attempt_at, deadline)
         VALUES ($1, 't', 'a', 'b', 'http://x', '{}'::jsonb, 'pending', now() - interval '1 second', now() + interval '1 hour')`,
        [`${engine}-job-${i}`],
      );
    }
    const claim = () =>
      db.query<{ id: string }>(
        `UPDATE delivery_jobs SET attempts = attempts + 1, next_attempt_at = now() + interval '1 hour'
         WHERE id IN (SELECT id FROM delivery_jobs WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY id LIMIT 4 FOR UPDATE SKIP LOCKED)
         RETURNING id`,
      );
    const claimed: string[] = [];
    for (;;) {
      const batches = await Promise.all([claim(), claim(), claim()]);
      const ids = batches.flat().map((r) => r.id);
      if (ids.length === 0) break;
      claimed.push(...ids);
    }
    expect(claimed.sort()).toEqual(Array.from({ length: n }, (_, i) => `${engine}-job-${i}`).sort());
  });
});
