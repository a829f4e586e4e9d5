// The sandbox controls: the /sandbox index page, a reset back to the fixtures, and the clock override for age-boundary
// tests, which changes decisions; none of them exists outside sandbox mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Parameters, Patient, Task } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { startGateway } from '../src/server.js';
import { BSN_SYSTEM } from '../src/store/resources.js';
import {
  ENGINES,
  NOAH,
  carePlanPayload,
  consentResource,
  exchangeParameters,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  param,
  patientResource,
  sandboxToken,
  testBsn,
  testConfig,
  testSandbox,
} from './helpers.js';

const post = (url: string, body?: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe.each(ENGINES)('sandbox controls on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
  });
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('lists clients, families with BSNs and ages, and example calls on /sandbox, Dutch first', async () => {
    const res = await fetch(`${sandbox.url}/sandbox`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<html lang="nl">');
    expect(html).toContain('sandbox-cjg');
    expect(html).toContain('fixtures/keys/sandbox-privacy-officer.private.jwk.json');
    expect(html).toContain('999910036');
    expect(html).toContain('14-03-2017');
    expect(html).toContain('Gezinnen / families');
    expect(html).toContain('npm run conformance -- --base-url');
    const json = (await (
      await fetch(`${sandbox.url}/sandbox`, { headers: { accept: 'application/json' } })
    ).json()) as { clients: unknown[]; families: { members: { bsn: string; age?: number }[] }[] };
    expect(json.clients.length).toBeGreaterThanOrEqual(11);
    expect(json.families[0]!.members.find((m) => m.bsn === '999910036')).toMatchObject({ kind: 'child' });
  });

  it('decides as of the overridden clock, shows it, refuses a malformed moment and goes back on DELETE', async () => {
    const cjg = await sandboxToken(sandbox, 'cjg');
    const bsn = testBsn();
    // Turns 16 in ten days; consents alone, which counts only from the 16th birthday.
    const created = await fhir<{ id: string }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(16, -10)),
    );
    expect(created.status).toBe(201);
    const patientRef = `Patient/${created.body.id}`;
    expect(
      (
        await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', {
          ...consentResource(patientRef, [patientRef], ['Organization/huisartsen-de-linde'], ['CAREMGT']),
          organization: [{ reference: 'Organization/cjg-venlo' }],
        })
      ).status,
    ).toBe(201);
    const ask = async () => {
      const res = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', {
        resourceType: 'Parameters',
        parameter: [
          { name: 'recipient', valueReference: { reference: 'Organization/huisartsen-de-linde' } },
          { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: bsn } },
          {
            name: 'purpose',
            valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
          },
        ],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return param(res.body, 'decision')?.valueCode;
    };
    expect(await ask()).toBe('deny');
    const inTenDays = new Date(Date.now() + 10 * 24 * 3600 * 1000 + 3600 * 1000);
    const set = await post(`${sandbox.url}/sandbox/clock`, { now: inTenDays.toISOString() });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ overridden: true });
    expect(await ask()).toBe('permit');
    const bad = await post(`${sandbox.url}/sandbox/clock`, { now: 'morgen' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    // A day the calendar does not have is refused, not rolled into the next month.
    expect((await post(`${sandbox.url}/sandbox/clock`, { now: '2026-02-30T00:00:00Z' })).status).toBe(400);
    const back = await fetch(`${sandbox.url}/sandbox/clock`, { method: 'DELETE' });
    expect(await back.json()).toMatchObject({ overridden: false });
    expect(await ask()).toBe('deny');
  });

  it('stamps a request with its one moment: stored versions, Tasks and audit records, and a birth date of that Dutch day', async () => {
    const cjg = await sandboxToken(sandbox, 'cjg');
    // 00:30 on 2 December 2026 in Amsterdam: a baby born that day is born today, not tomorrow. The sandbox clock runs on
    // from the moment it is set to; each request reads it once.
    const moment = '2026-12-01T23:30:00.000Z';
    const near = (iso: string | undefined) =>
      Math.abs(new Date(iso!).getTime() - Date.parse(moment)) < 60_000;
    expect((await post(`${sandbox.url}/sandbox/clock`, { now: moment })).status).toBe(200);
    try {
      const baby = await fhir<Patient>(sandbox.url, cjg, 'POST', '/fhir/Patient', {
        ...patientResource(testBsn(), '2026-12-02'),
      });
      expect(baby.status, JSON.stringify(baby.body)).toBe(201);
      // The day after is in the future on the sandbox's clock, whatever the system time.
      const unborn = await fhir(sandbox.url, cjg, 'POST', '/fhir/Patient', {
        ...patientResource(testBsn(), '2026-12-03'),
      });
      expect(unborn.status).toBe(422);
      expect(JSON.stringify(unborn.body)).toContain('birthDate lies in the future');
      const registered = baby.body.meta!.lastUpdated!;
      expect(near(registered)).toBe(true);
      const sent = await fhir<Parameters>(
        sandbox.url,
        cjg,
        'POST',
        '/fhir/$exchange',
        exchangeParameters('Organization/huisartsen-de-linde', NOAH, 'CAREMGT', carePlanPayload(NOAH)),
      );
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      const taskRef = param(sent.body, 'exchange')?.valueReference?.reference;
      const [task] = await sandbox.ctx.db.query<{ content: Task }>(
        "SELECT content FROM resources WHERE type = 'Task' AND id = $1",
        [taskRef!.split('/')[1]],
      );
      const authored = task!.content.authoredOn!;
      expect(near(authored) && authored !== registered).toBe(true);
      expect(task!.content).toMatchObject({ lastModified: authored, meta: { lastUpdated: authored } });
      const records = await sandbox.ctx.db.query<{ recorded: string }>(
        `SELECT content ->> 'recorded' AS recorded FROM audit_events
         WHERE content::jsonb -> 'entity' @> $1::jsonb OR content::jsonb -> 'entity' @> $2::jsonb`,
        [
          JSON.stringify([{ what: { reference: taskRef } }]),
          JSON.stringify([{ what: { reference: `Patient/${baby.body.id}` } }]),
        ],
      );
      expect(records.map((r) => r.recorded).sort()).toEqual([registered, authored]);
    } finally {
      await fetch(`${sandbox.url}/sandbox/clock`, { method: 'DELETE' });
    }
  });

  it('resets to the fixtures: what was registered is gone, the fixture families are back, the audit log keeps and verifies', async () => {
    const cjg = await sandboxToken(sandbox, 'cjg');
    const bsn = testBsn();
    expect(
      (await fhir(sandbox.url, cjg, 'POST', '/fhir/Patient', patientResource(bsn, '2015-05-05'))).status,
    ).toBe(201);
    await post(`${sandbox.url}/sandbox/clock`, { now: '2031-01-01' });
    const reset = await post(`${sandbox.url}/sandbox/reset`);
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ reset: true, clock: { overridden: false } });
    const search = (value: string) =>
      fhir<Bundle>(sandbox.url, cjg, 'GET', `/fhir/Patient?identifier=${BSN_SYSTEM}|${value}`);
    expect((await search(bsn)).body.total).toBe(0);
    expect((await search('999910036')).body.total).toBe(1);
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    const verify = await fhir<Parameters>(sandbox.url, officer, 'GET', '/fhir/AuditEvent/$verify');
    expect(param(verify.body, 'valid')?.valueBoolean).toBe(true);
    const [row] = await sandbox.ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_events WHERE subtype = 'sandbox-reset'",
    );
    expect(row!.n).toBe(1);
  });
});

describe('outside sandbox mode', () => {
  it('has no sandbox controls: the index, the reset and the clock answer 404', async () => {
    const gateway = await startGateway(testConfig());
    try {
      expect((await fetch(`${gateway.url}/sandbox`)).status).toBe(404);
      expect((await post(`${gateway.url}/sandbox/reset`)).status).toBe(404);
      expect((await post(`${gateway.url}/sandbox/clock`, { now: '2031-01-01' })).status).toBe(404);
      expect((await fetch(`${gateway.url}/sandbox/clock`)).status).toBe(404);
    } finally {
      await gateway.close();
    }
  });
});
