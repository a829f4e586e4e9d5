// Person registrations: each organisation keeps its own; none reads, takes over or changes another's; disputed facts fail closed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AuditEvent,
  Bundle,
  Consent,
  Parameters,
  Patient,
  RelatedPerson,
  Task,
} from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  consentResource,
  EMMA,
  fhir,
  legalBasisParameters,
  MOTHER,
  NOAH,
  ORG,
  parentResource,
  patientResource,
  questionAbout,
  reasonCodes,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const { GP, SCHOOL, VEILIG_THUIS } = ORG;

const question = (subject: string, recipient: string, extra: Parameters['parameter'] = []) =>
  questionAbout(subject, recipient, extra);
const reasonTexts = (p: Parameters) =>
  (p.parameter ?? [])
    .filter((x) => x.name === 'reason')
    .map((x) => x.part?.find((y) => y.name === 'text')?.valueString);

describe('person registrations', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  let school: string;
  let gp: string;
  let officer: string;
  let cjgNoah: Patient;
  let schoolNoah: Patient;

  const decide = async (token: string, body: Parameters) => {
    const res = await fhir<Parameters>(sandbox.url, token, 'POST', '/fhir/$consent-decision', body);
    expect(res.status).toBe(200);
    return res.body;
  };
  const openConflicts = async () =>
    (
      await fhir<Bundle<Task>>(
        sandbox.url,
        officer,
        'GET',
        '/fhir/Task?code=registration-conflict&status=requested',
      )
    ).body;

  beforeAll(async () => {
    sandbox = await testSandbox();
    [cjg, school, gp, officer] = await Promise.all([
      sandboxToken(sandbox, 'cjg'),
      sandboxToken(sandbox, 'school'),
      sandboxToken(sandbox, 'gp'),
      sandboxToken(sandbox, 'privacy-officer'),
    ]);
    const all = await fhir<Bundle<Patient>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/Patient?identifier=${BSN}|${NOAH}`,
    );
    expect(all.body.total).toBe(1);
    cjgNoah = all.body.entry![0]!.resource!;
  });
  afterAll(() => sandbox.close());

  it("never reveals or grants another organisation's registration through a conditional create", async () => {
    const created = await fhir<Patient>(
      sandbox.url,
      school,
      'POST',
      '/fhir/Patient',
      { resourceType: 'Patient', identifier: [{ system: BSN, value: NOAH }], birthDate: '2017-03-14' },
      { 'If-None-Exist': `identifier=${BSN}|${NOAH}` },
    );
    expect(created.status).toBe(201);
    schoolNoah = created.body;
    expect(schoolNoah.id).not.toBe(cjgNoah.id);
    // Nothing of the CJG's record came back.
    expect(schoolNoah.name).toBeUndefined();
    expect(JSON.stringify(created.body)).not.toContain('Jansen');
    // The CJG's registration stays out of reach: read, update and search.
    expect((await fhir(sandbox.url, school, 'GET', `/fhir/Patient/${cjgNoah.id}`)).status).toBe(404);
    const takeover = await fhir(sandbox.url, school, 'PUT', `/fhir/Patient/${cjgNoah.id}`, {
      ...cjgNoah,
      birthDate: '2008-01-01',
    });
    expect(takeover.status).toBe(404);
    const own = await fhir<Bundle<Patient>>(
      sandbox.url,
      school,
      'GET',
      `/fhir/Patient?identifier=${BSN}|${NOAH}`,
    );
    expect(own.body.entry?.map((e) => e.resource?.id)).toEqual([schoolNoah.id]);
    // The same for a parent: the school's conditional create of the mother makes a registration of its own.
    const cjgMother = await fhir<Bundle<RelatedPerson>>(
      sandbox.url,
      cjg,
      'GET',
      `/fhir/RelatedPerson?patient=Patient/${cjgNoah.id}&identifier=${BSN}|${MOTHER}`,
    );
    const motherId = cjgMother.body.entry![0]!.resource!.id;
    const mother = await fhir<RelatedPerson>(
      sandbox.url,
      school,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(`Patient/${schoolNoah.id}`, MOTHER, true),
      { 'If-None-Exist': `identifier=${BSN}|${MOTHER}` },
    );
    expect(mother.status).toBe(201);
    expect(mother.body.id).not.toBe(motherId);
    expect((await fhir(sandbox.url, school, 'GET', `/fhir/RelatedPerson/${motherId}`)).status).toBe(404);
    // A parent can only be registered for a child registration of one's own.
    const foreign = await fhir(
      sandbox.url,
      school,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(`Patient/${cjgNoah.id}`, MOTHER, false),
    );
    expect(foreign.status).toBe(422);
  });

  it('fails closed while registrations disagree on the birth date, raises one review Task, and audits the change with its source', async () => {
    expect((await decide(cjg, question(NOAH, GP))).parameter?.[0]?.valueCode).toBe('permit');
    const older = await fhir<Patient>(sandbox.url, school, 'PUT', `/fhir/Patient/${schoolNoah.id}`, {
      ...schoolNoah,
      birthDate: '2008-01-01',
    });
    expect(older.status).toBe(200);
    // The school, now claiming an 18-year-old, records a consent of the "adult" child for itself.
    const selfConsent = await fhir<Consent>(
      sandbox.url,
      school,
      'POST',
      '/fhir/Consent',
      consentResource(`Patient/${schoolNoah.id}`, [`Patient/${schoolNoah.id}`], [SCHOOL], ['CAREMGT']),
    );
    expect(selfConsent.status).toBe(201);
    const forSchool = await decide(cjg, question(NOAH, SCHOOL));
    expect(forSchool.parameter?.[0]?.valueCode).toBe('deny');
    expect(reasonCodes(forSchool)).toEqual(['facts-conflict']);
    const forGp = await decide(cjg, question(NOAH, GP));
    expect(forGp.parameter?.[0]?.valueCode).toBe('deny');
    expect(reasonCodes(forGp)).toEqual(['facts-conflict']);

    const queue = await openConflicts();
    expect(queue.total).toBe(1);
    const task = queue.entry![0]!.resource!;
    expect(task.for?.reference).toBe(`Patient/${cjgNoah.id}`);
    const registrations = task.input?.filter((i) => i.type.text === 'registration').map((i) => i.valueString);
    expect(registrations).toEqual([
      `Patient/${cjgNoah.id}: 2017-03-14`,
      `Patient/${schoolNoah.id}: 2008-01-01`,
    ]);
    // Agencies do not see the gateway's review Tasks.
    expect((await fhir(sandbox.url, cjg, 'GET', `/fhir/Task/${task.id}`)).status).toBe(404);
    expect((await fhir(sandbox.url, school, 'GET', `/fhir/Task/${task.id}`)).status).toBe(404);

    const events = await fhir<Bundle<AuditEvent>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/AuditEvent?patient:identifier=${BSN}|${NOAH}&_count=100`,
    );
    const change = events.body.entry
      ?.map((e) => e.resource!)
      .find(
        (e) =>
          e.subtype?.[0]?.code === 'update' &&
          e.entity?.some((x) => x.what?.reference === `Patient/${schoolNoah.id}`),
      );
    expect(change?.outcomeDesc).toContain('birthDate: 2017-03-14 → 2008-01-01');
    expect(JSON.stringify(change)).toContain(SCHOOL);

    // A report to Veilig Thuis does not depend on the disputed birth date: child protection is never blocked by it.
    const report = await decide(
      cjg,
      question(
        NOAH,
        VEILIG_THUIS,
        legalBasisParameters(
          'wmo-5.2.6-veilig-thuis',
          'Vermoeden van kindermishandeling na gesprek met moeder.',
          { 'meldcode-followed': true },
        ),
      ),
    );
    expect(report.parameter?.[0]?.valueCode).toBe('permit');

    // The school corrects its registration: the dispute holds until the privacy officer has settled it.
    const fixed = await fhir<Patient>(sandbox.url, school, 'PUT', `/fhir/Patient/${schoolNoah.id}`, {
      ...older.body,
      birthDate: '2017-03-14',
    });
    expect(fixed.status).toBe(200);
    expect(reasonCodes(await decide(cjg, question(NOAH, GP)))).toEqual(['facts-conflict']);
    // Settling needs a note; no agency can settle.
    const inProgress = await fhir<Task>(sandbox.url, officer, 'PUT', `/fhir/Task/${task.id}`, {
      ...task,
      status: 'in-progress',
    });
    expect(inProgress.status).toBe(200);
    expect(
      (
        await fhir(sandbox.url, officer, 'PUT', `/fhir/Task/${task.id}`, {
          ...inProgress.body,
          status: 'completed',
          note: [],
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await fhir(sandbox.url, cjg, 'PUT', `/fhir/Task/${task.id}`, {
          ...inProgress.body,
          status: 'completed',
        })
      ).status,
    ).toBe(404);
    const settled = await fhir<Task>(sandbox.url, officer, 'PUT', `/fhir/Task/${task.id}`, {
      ...inProgress.body,
      status: 'completed',
      note: [{ text: 'School De Wilgen heeft de geboortedatum gecorrigeerd na controle in de BRP.' }],
    });
    expect(settled.status).toBe(200);
    expect((await openConflicts()).total).toBe(0);
    expect((await decide(cjg, question(NOAH, GP))).parameter?.[0]?.valueCode).toBe('permit');
    // The school's consent of a child of nine, given by the child alone, is no basis.
    expect((await decide(cjg, question(NOAH, SCHOOL))).parameter?.[0]?.valueCode).toBe('deny');
  });

  it('fails closed while registrations disagree on parental authority', async () => {
    const own = await fhir<Bundle<RelatedPerson>>(
      sandbox.url,
      school,
      'GET',
      `/fhir/RelatedPerson?patient=Patient/${schoolNoah.id}`,
    );
    const mother = own.body.entry![0]!.resource!;
    const without = await fhir(sandbox.url, school, 'PUT', `/fhir/RelatedPerson/${mother.id}`, {
      ...parentResource(`Patient/${schoolNoah.id}`, MOTHER, false),
      id: mother.id,
    });
    expect(without.status).toBe(200);
    const denied = await decide(cjg, question(NOAH, GP));
    expect(reasonCodes(denied)).toEqual(['facts-conflict']);
    const back = await fhir(sandbox.url, school, 'PUT', `/fhir/RelatedPerson/${mother.id}`, {
      ...parentResource(`Patient/${schoolNoah.id}`, MOTHER, true),
      id: mother.id,
    });
    expect(back.status).toBe(200);
    expect(reasonCodes(await decide(cjg, question(NOAH, GP)))).toEqual(['facts-conflict']);
    const task = (await openConflicts()).entry![0]!.resource!;
    expect(task.input?.find((i) => i.type.text === 'fact')?.valueCode).toBe('parentalAuthority');
    await fhir(sandbox.url, officer, 'PUT', `/fhir/Task/${task.id}`, {
      ...task,
      status: 'completed',
      note: [{ text: 'Gezag nagegaan; de school heeft haar registratie hersteld.' }],
    });
    expect((await decide(cjg, question(NOAH, GP))).parameter?.[0]?.valueCode).toBe('permit');
  });

  it('keeps a withdrawn consent withdrawn: a plain update cannot make it active again', async () => {
    const child = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), '2008-06-01'),
    );
    const ref = `Patient/${child.body.id}`;
    const consent = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(ref, [ref], [GP], ['CAREMGT']),
    );
    expect(consent.status).toBe(201);
    const withdrawn = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      `/fhir/Consent/${consent.body.id}/$withdraw`,
    );
    expect(withdrawn.status).toBe(200);
    const current = await fhir<Consent>(sandbox.url, cjg, 'GET', `/fhir/Consent/${consent.body.id}`);
    expect(current.body.status).toBe('inactive');
    const revived = await fhir(sandbox.url, cjg, 'PUT', `/fhir/Consent/${consent.body.id}`, {
      ...current.body,
      status: 'active',
    });
    expect(revived.status).toBe(422);
    expect(
      (await fhir<Consent>(sandbox.url, cjg, 'GET', `/fhir/Consent/${consent.body.id}`)).body.status,
    ).toBe('inactive');
  });

  it('gives an organisation without a registration of the person one answer, whether the person is unknown or has no consent', async () => {
    const unknown = await decide(gp, question(testBsn(), SCHOOL));
    const noConsent = await decide(gp, question(EMMA, SCHOOL));
    expect(reasonCodes(unknown)).toEqual(['no-basis']);
    expect(reasonCodes(noConsent)).toEqual(reasonCodes(unknown));
    expect(reasonTexts(noConsent)).toEqual(reasonTexts(unknown));
    // The same in an exchange's refusal.
    const refused = async (bsn: string) =>
      (
        await fhir<{ issue: { details: { coding: { code: string }[] }; diagnostics: string }[] }>(
          sandbox.url,
          gp,
          'POST',
          '/fhir/$exchange',
          {
            ...question(bsn, SCHOOL),
            parameter: [
              ...question(bsn, SCHOOL).parameter!,
              { name: 'payload', resource: { resourceType: 'Bundle', type: 'collection', entry: [] } },
            ],
          },
        )
      ).body.issue;
    expect(await refused(testBsn())).toEqual(await refused(EMMA));
    // The CJG, which registered Emma, hears why.
    expect(reasonCodes(await decide(cjg, question(EMMA, SCHOOL)))).not.toContain('no-basis');
    // The audit record keeps the real reason for the privacy officer.
    const events = await fhir<Bundle<AuditEvent>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/AuditEvent?patient:identifier=${BSN}|${EMMA}&subtype=consent-decision&_count=5`,
    );
    expect(JSON.stringify(events.body)).toContain('consent-missing');
  });
});
