// Audit coverage: every read of person data and every refusal is on record, attributed to each person it concerns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, Parameters, Patient, RelatedPerson, Task } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import {
  carePlanPayload,
  ENGINES,
  exchangeParameters,
  fhir,
  freshDatabase,
  sandboxToken,
  testSandbox,
} from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const NOAH = '999910036';
const EMMA = '999910048';
const MOTHER = '999910012';
const FATHER = '999910024';
const FAMILY = { system: 'https://ketenpoort.nl/fhir/NamingSystem/family-id', value: 'venlo-gezin-0001' };

describe.each(ENGINES)('audit coverage on %s', (engine) => {
  let sandbox: RunningSandbox;
  let db: Database;
  let drop: () => Promise<void>;
  let officer: string;
  let cjg: string;
  let school: string;
  let noahId: string;

  /** The events of the log whose JSON matches, newest first. */
  const events = async (where: string, params: unknown[] = []) =>
    (
      await db.query<{ content: AuditEvent }>(
        `SELECT content FROM audit_events WHERE ${where} ORDER BY seq DESC`,
        params,
      )
    ).map((r) => r.content);
  const bsnsOf = (e: AuditEvent) =>
    (e.entity ?? []).flatMap((x) => (x.what?.identifier?.system === BSN ? [x.what.identifier.value!] : []));
  const report = async (bsn: string) =>
    (
      await fhir<Bundle<AuditEvent>>(
        sandbox.url,
        officer,
        'GET',
        `/fhir/Patient/$access-report?identifier=${BSN}|${bsn}`,
      )
    ).body.entry!.map((e) => e.resource!);

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    sandbox = await testSandbox({}, db);
    officer = await sandboxToken(sandbox, 'privacy-officer');
    cjg = await sandboxToken(sandbox, 'cjg');
    school = await sandboxToken(sandbox, 'school');
    const found = await fhir<Bundle<Patient>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/Patient?identifier=${BSN}|${NOAH}`,
    );
    noahId = found.body.entry![0]!.resource!.id!;
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('puts a family exchange on the access report of every child and parent of the family', async () => {
    const params = exchangeParameters(
      'Organization/jeugdzorg-horizon',
      NOAH,
      'CAREMGT',
      carePlanPayload(NOAH),
    );
    params.parameter!.find((p) => p.name === 'subject')!.valueIdentifier = FAMILY;
    const sent = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$exchange', params);
    expect(sent.status).toBe(202);
    for (const bsn of [NOAH, EMMA, MOTHER, FATHER]) {
      const lines = (await report(bsn)).filter((e) => e.subtype?.[0]?.code === 'exchange');
      expect([bsn, lines.length]).toEqual([bsn, 1]);
      expect(bsnsOf(lines[0]!).sort()).toEqual([EMMA, FATHER, MOTHER, NOAH].sort());
    }
  });

  it('attributes a search to every person it returned, and a parent’s registration to parent and child', async () => {
    const parents = await fhir<Bundle<RelatedPerson>>(
      sandbox.url,
      cjg,
      'GET',
      `/fhir/RelatedPerson?patient=Patient/${noahId}`,
    );
    expect(parents.body.total).toBe(2);
    const [search] = await events(`subtype = 'search' AND content::text LIKE '%RelatedPerson%'`);
    expect(bsnsOf(search!).sort()).toEqual([FATHER, MOTHER, NOAH].sort());
    expect((await report(FATHER)).some((e) => e.id === search!.id)).toBe(true);

    const mother = parents.body.entry!.find((e) =>
      e.resource!.identifier!.some((i) => i.value === MOTHER),
    )!.resource!;
    expect((await fhir(sandbox.url, cjg, 'GET', `/fhir/RelatedPerson/${mother.id}`)).status).toBe(200);
    const [read] = await events(`subtype = 'read' AND content::text LIKE $1`, [
      `%RelatedPerson/${mother.id}%`,
    ]);
    expect(bsnsOf(read!).sort()).toEqual([MOTHER, NOAH].sort());
    for (const bsn of [MOTHER, NOAH]) expect((await report(bsn)).some((e) => e.id === read!.id)).toBe(true);
  });

  it('records reads and searches of delivery Tasks and notices, attributed to the person delivered about', async () => {
    const sent = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/huisartsen-de-linde', NOAH, 'CAREMGT', carePlanPayload(NOAH)),
    );
    expect(sent.status).toBe(202);
    const taskRef = sent.body.parameter!.find((p) => p.name === 'exchange')!.valueReference!.reference!;
    const task = await fhir<Task>(sandbox.url, cjg, 'GET', `/fhir/${taskRef}`);
    expect(task.status).toBe(200);
    const [read] = await events(`subtype = 'read' AND content::text LIKE $1`, [`%"${taskRef}"%`]);
    expect(read, 'the read of the Task is on record').toBeDefined();
    expect(bsnsOf(read!)).toContain(NOAH);
    const list = await fhir<Bundle>(sandbox.url, cjg, 'GET', '/fhir/Task?code=exchange');
    expect(list.status).toBe(200);
    const [search] = await events(`subtype = 'search' AND content::text LIKE '%Search Task%'`);
    expect(bsnsOf(search!)).toContain(NOAH);
    expect((await fhir(sandbox.url, cjg, 'GET', '/fhir/Communication')).status).toBe(200);
    expect(await events(`subtype = 'search' AND content::text LIKE '%Search Communication%'`)).toHaveLength(
      1,
    );
    const noahReport = await report(NOAH);
    expect(noahReport.some((e) => e.id === read!.id)).toBe(true);
  });

  it('records a 404 for another agency’s record as a refusal on that person’s access report', async () => {
    const refused = await fhir(sandbox.url, school, 'GET', `/fhir/Patient/${noahId}`);
    expect(refused.status).toBe(404);
    const [event] = await events(`subtype = 'refusal' AND agent_org = 'Organization/school-de-wilgen'`);
    expect(event!.outcome).toBe('4');
    expect(event!.action).toBe('R');
    expect(bsnsOf(event!)).toEqual([NOAH]);
    const line = (await report(NOAH)).find((e) => e.id === event!.id);
    expect(line?.extension?.[0]?.valueString).toMatch(/werd geweigerd/);
  });

  it('records a refusal for a role without the right, and not twice for a denied decision', async () => {
    const research = await sandboxToken(sandbox, 'research');
    const before = (await events(`subtype = 'refusal'`)).length;
    expect((await fhir(sandbox.url, research, 'GET', '/fhir/AuditEvent')).status).toBe(403);
    const [event] = await events(`subtype = 'refusal'`);
    expect(event!.outcomeDesc).toMatch(/^Refused \(403\) GET \/fhir\/AuditEvent/);
    expect((await events(`subtype = 'refusal'`)).length).toBe(before + 1);
    // A consent decision that denies is recorded by the decision itself, once.
    const denied = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/school-de-wilgen', NOAH, 'CAREMGT', carePlanPayload(NOAH)),
    );
    expect(denied.status).toBe(403);
    const requestId = denied.headers.get('x-request-id')!;
    expect(
      (await events(`content::text LIKE $1`, [`%${requestId}%`])).map((e) => e.subtype?.[0]?.code),
    ).toEqual(['exchange']);
  });

  it('groups refusals without a valid token per source, and keeps no request body', async () => {
    const log = sandbox.ctx.refusals;
    await log.flush(undefined, true);
    const before = (await events(`subtype = 'refusal' AND agent_org IS NULL`)).length;
    const secret = 'geheime-inhoud-van-het-verzoek';
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${sandbox.url}/fhir/Patient?identifier=${BSN}|${NOAH}`, {
        method: i % 2 ? 'GET' : 'POST',
        headers: { authorization: 'Bearer not-a-token', 'content-type': 'application/fhir+json' },
        body: i % 2 ? undefined : JSON.stringify({ resourceType: 'Patient', note: secret }),
      });
      expect(res.status).toBe(401);
    }
    const first = await events(`subtype = 'refusal' AND agent_org IS NULL`);
    expect(first.length - before).toBe(1);
    expect(first[0]!.agent?.[0]?.network?.address).toMatch(/127\.0\.0\.1|::1/);
    await log.flush(undefined, true);
    const [summary] = await events(`subtype = 'refusal' AND agent_org IS NULL`);
    expect(summary!.outcomeDesc).toMatch(/^39 further refusals \(401\) without a valid token from /);
    const all = await events(`subtype = 'refusal'`);
    expect(all.some((e) => JSON.stringify(e).includes(secret))).toBe(false);
    // Without a token nothing is looked up or attributed: a flood costs the log at most two events per source a minute.
    expect(all.filter((e) => !e.agent?.[0]?.who?.reference).every((e) => bsnsOf(e).length === 0)).toBe(true);
  });
});
