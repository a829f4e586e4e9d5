// An outside attacker's findings against the sandbox, kept as tests: probing, borrowed parents, stolen performers,
// sticky disputes, age and date tricks, empty justifications, and answers that must stay OperationOutcomes.
import { connect } from 'node:net';
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
  carePlanPayload,
  consentResource,
  exchangeParameters,
  fhir,
  isoDateYearsAgo,
  legalBasisParameters,
  NOAH,
  ORG,
  parentResource,
  patientResource,
  personToken,
  questionAbout,
  reasonCodes,
  sandboxToken,
  testBsn,
  testSandbox,
  verdictOf,
} from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const { GP, YOUTH_CARE, VEILIG_THUIS } = ORG;
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

const question = questionAbout;
const verdict = verdictOf;
const reasons = reasonCodes;

describe('the perimeter against an outside attacker', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  let school: string;
  let gp: string;
  let officer: string;

  const decide = async (token: string, body: Parameters) =>
    (await fhir<Parameters>(sandbox.url, token, 'POST', '/fhir/$consent-decision', body)).body;
  /** A child of the CJG with two parents who hold gezag, and the parents' consent for the GP. */
  const family = async (birthDate = isoDateYearsAgo(9)) => {
    const child = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), birthDate),
    );
    const ref = `Patient/${child.body.id}`;
    const mother = await fhir<RelatedPerson>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(ref, testBsn(), true),
    );
    const father = await fhir<RelatedPerson>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(ref, testBsn(), true),
    );
    const parents = [`RelatedPerson/${mother.body.id}`, `RelatedPerson/${father.body.id}`];
    return { child: child.body, ref, parents, bsn: child.body.identifier![0]!.value! };
  };

  beforeAll(async () => {
    sandbox = await testSandbox();
    [cjg, school, gp, officer] = await Promise.all([
      sandboxToken(sandbox, 'cjg'),
      sandboxToken(sandbox, 'school'),
      sandboxToken(sandbox, 'gp'),
      sandboxToken(sandbox, 'privacy-officer'),
    ]);
  });
  afterAll(() => sandbox.close());

  it('answers an organisation without a registration of the person as if the person were unknown, and moves nothing', async () => {
    const known = await decide(school, question(NOAH, YOUTH_CARE));
    const unknown = await decide(school, question(testBsn(), YOUTH_CARE));
    expect(verdict(known)).toBe('deny');
    expect(reasons(known)).toEqual(['no-basis']);
    expect(known.parameter?.filter((p) => p.name !== 'auditEvent')).toEqual(
      unknown.parameter?.filter((p) => p.name !== 'auditEvent'),
    );
    const push = (bsn: string) =>
      fhir(
        sandbox.url,
        school,
        'POST',
        '/fhir/$exchange',
        exchangeParameters(YOUTH_CARE, bsn, 'CAREMGT', {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [],
        }),
      );
    const [a, b] = await Promise.all([push(NOAH), push(testBsn())]);
    expect(a.status).toBe(403);
    expect(a.body).toEqual(b.body);
    const pull = (bsn: string) =>
      fhir(sandbox.url, gp, 'POST', '/fhir/$request-records', {
        resourceType: 'Parameters',
        parameter: [
          { name: 'source', valueReference: { reference: 'Organization/cjg-venlo' } },
          { name: 'subject', valueIdentifier: { system: BSN, value: bsn } },
          { name: 'purpose', valueCoding: { system: ACT_REASON, code: 'TREAT' } },
          {
            name: 'category',
            valueCoding: { system: 'https://ketenpoort.nl/fhir/CodeSystem/data-category', code: 'health' },
          },
        ],
      });
    const [c, d] = await Promise.all([pull(NOAH), pull(testBsn())]);
    expect(c.status).toBe(403);
    expect(c.body).toEqual(d.body);
    // The privacy officer sees why.
    const events = await fhir<Bundle<AuditEvent>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/AuditEvent?patient:identifier=${BSN}|${NOAH}&subtype=consent-decision&_count=20`,
    );
    expect(JSON.stringify(events.body)).toContain('requester-not-related');
  });

  it("does not open a child's access report to a parent that one organisation alone claims against another's registration", async () => {
    const f = await family();
    const stranger = testBsn();
    const own = await fhir<Patient>(
      sandbox.url,
      school,
      'POST',
      '/fhir/Patient',
      patientResource(f.bsn, f.child.birthDate!),
      {
        'If-None-Exist': `identifier=${BSN}|${f.bsn}`,
      },
    );
    expect(own.status).toBe(201);
    const claim = await fhir(
      sandbox.url,
      school,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(`Patient/${own.body.id}`, stranger, true),
    );
    expect(claim.status).toBe(201);
    const report = await fhir(
      sandbox.url,
      await personToken(sandbox, stranger),
      'GET',
      `/fhir/Patient/$access-report?identifier=${BSN}|${f.bsn}`,
    );
    expect(report.status).toBe(403);
  });

  it("refuses a consent whose performers are another organisation's registrations, or persons named by identifier only", async () => {
    const f = await family();
    const own = await fhir<Patient>(
      sandbox.url,
      school,
      'POST',
      '/fhir/Patient',
      patientResource(f.bsn, f.child.birthDate!),
    );
    const borrowed = await fhir(
      sandbox.url,
      school,
      'POST',
      '/fhir/Consent',
      consentResource(`Patient/${own.body.id}`, f.parents, ['Organization/school-de-wilgen'], ['CAREMGT']),
    );
    expect(borrowed.status).toBe(422);
    const byIdentifier = await fhir(sandbox.url, school, 'POST', '/fhir/Group', {
      resourceType: 'Group',
      type: 'person',
      actual: true,
      identifier: [
        { system: 'https://ketenpoort.nl/fhir/NamingSystem/family-id', value: 'venlo-gezin-0001' },
      ],
      member: [{ entity: { identifier: { system: BSN, value: NOAH } } }],
    });
    expect(byIdentifier.status).toBe(422);
    const parentOfIdentifier = await fhir(sandbox.url, school, 'POST', '/fhir/RelatedPerson', {
      ...parentResource('Patient/x', testBsn(), true),
      patient: { identifier: { system: BSN, value: f.bsn } },
    });
    expect(parentOfIdentifier.status).toBe(422);
  });

  it('keeps a dispute until a privacy officer settles it, so that guessing another registration gives nothing away', async () => {
    const f = await family();
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(f.ref, f.parents, [GP], ['CAREMGT']),
    );
    expect(verdict(await decide(cjg, question(f.bsn, GP)))).toBe('permit');
    const guess = await fhir<Patient>(
      sandbox.url,
      school,
      'POST',
      '/fhir/Patient',
      patientResource(f.bsn, '2000-01-01'),
    );
    expect(reasons(await decide(cjg, question(f.bsn, GP)))).toEqual(['facts-conflict']);
    // Guessed right: still disputed.
    await fhir(sandbox.url, school, 'PUT', `/fhir/Patient/${guess.body.id}`, {
      ...guess.body,
      birthDate: f.child.birthDate,
    });
    expect(reasons(await decide(cjg, question(f.bsn, GP)))).toEqual(['facts-conflict']);
    expect(reasons(await decide(school, question(f.bsn, GP)))).toEqual(['facts-conflict']);
    const queue = await fhir<Bundle<Task>>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/Task?code=registration-conflict&status=requested&_count=100',
    );
    const task = queue.body
      .entry!.map((e) => e.resource!)
      .find((t) => t.input?.some((i) => i.valueString === f.bsn))!;
    const settled = await fhir(sandbox.url, officer, 'PUT', `/fhir/Task/${task.id}`, {
      ...task,
      status: 'completed',
      note: [{ text: 'Geboortedatum bij de school gecontroleerd.' }],
    });
    expect(settled.status).toBe(200);
    expect(verdict(await decide(cjg, question(f.bsn, GP)))).toBe('permit');
  });

  it("counts no consent dated before the birth, and no parents' consent for an adult", async () => {
    const f = await family(isoDateYearsAgo(14));
    await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', {
      ...consentResource(f.ref, f.parents, [GP], ['CAREMGT']),
      dateTime: '2001-01-01T10:00:00+01:00',
    });
    expect(verdict(await decide(cjg, question(f.bsn, GP)))).toBe('deny');
    const adult = await family(isoDateYearsAgo(30));
    await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', {
      ...consentResource(adult.ref, adult.parents, [GP], ['CAREMGT']),
      dateTime: `${isoDateYearsAgo(26)}T10:00:00+01:00`,
    });
    expect(verdict(await decide(cjg, question(adult.bsn, GP)))).toBe('deny');
  });

  it('takes no invisible, repeated or too short text for a justification', async () => {
    const f = await family();
    const ask = (justification: string) =>
      decide(
        cjg,
        question(
          f.bsn,
          VEILIG_THUIS,
          legalBasisParameters('wmo-5.2.6-veilig-thuis', justification, { 'meldcode-followed': true }),
        ),
      );
    expect(reasons(await ask('\u200b'.repeat(25)))).toContain('justification-missing');
    expect(reasons(await ask('😀'.repeat(10)))).toContain('justification-too-short');
    expect(reasons(await ask('.'.repeat(30)))).toContain('justification-too-short');
    expect(reasons(await ask('a'.repeat(30)))).toContain('justification-too-short');
    expect(verdict(await ask('Blauwe plekken gezien; gesprek met moeder gevoerd.'))).toBe('permit');
  });

  it('refuses an unknown purpose, an impossible birth date and an unknown notice search parameter with a clear 4xx', async () => {
    const f = await family();
    const purpose = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$consent-decision',
      question(f.bsn, GP, [], '=HYPERLINK("x")'),
    );
    expect(purpose.status).toBe(422);
    const feb30 = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), '2015-02-30'),
    );
    expect(feb30.status).toBe(422);
    const comm = await fhir(sandbox.url, cjg, 'GET', '/fhir/Communication?foo=1');
    expect(comm.status).toBe(400);
  });

  it("names the sender's own registration in its exchange Task, never another organisation's", async () => {
    const f = await family();
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(f.ref, f.parents, [YOUTH_CARE], ['CAREMGT']),
    );
    // The GP registers the child itself (its own registration is newer than the CJG's) and sends.
    const own = await fhir<Patient>(
      sandbox.url,
      gp,
      'POST',
      '/fhir/Patient',
      patientResource(f.bsn, f.child.birthDate!),
    );
    const sent = await fhir<Parameters>(
      sandbox.url,
      gp,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(YOUTH_CARE, f.bsn, 'CAREMGT', {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [],
      }),
    );
    expect(sent.status).toBe(202);
    const taskRef = sent.body.parameter!.find((p) => p.name === 'exchange')!.valueReference!.reference!;
    const task = await fhir<Task>(sandbox.url, gp, 'GET', `/fhir/${taskRef}`);
    expect(task.body.for?.reference).toBe(`Patient/${own.body.id}`);
    // Sent back unchanged, the exchange Task is refused as the gateway's own, not for a code it issued itself.
    const back = await fhir(sandbox.url, gp, 'PUT', `/fhir/${taskRef}`, task.body);
    expect(back.status).toBe(403);
    expect(JSON.stringify(back.body)).toContain('kept by the gateway');
  });

  it('withdraws once: a second withdrawal keeps the first moment and makes no new version', async () => {
    const f = await family();
    const consent = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(f.ref, f.parents, [GP], ['CAREMGT']),
    );
    const first = await fhir<Consent>(sandbox.url, cjg, 'POST', `/fhir/Consent/${consent.body.id}/$withdraw`);
    const second = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      `/fhir/Consent/${consent.body.id}/$withdraw`,
    );
    expect(second.status).toBe(200);
    expect(second.body.meta?.versionId).toBe(first.body.meta?.versionId);
    expect(second.body.extension).toEqual(first.body.extension);
  });

  it('records a decision about a person in their access report, and an identified refusal of any kind', async () => {
    const f = await family();
    await fhir(sandbox.url, school, 'POST', '/fhir/Patient', patientResource(f.bsn, f.child.birthDate!));
    await decide(school, question(f.bsn, YOUTH_CARE));
    const report = await fhir<Bundle<AuditEvent>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/Patient/$access-report?identifier=${BSN}|${f.bsn}`,
    );
    expect(
      report.body.entry?.some(
        (e) =>
          e.resource?.subtype?.some((s) => s.code === 'consent-decision') &&
          JSON.stringify(e.resource.agent).includes('school-de-wilgen'),
      ),
    ).toBe(true);
    const before = await fhir<Bundle>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/AuditEvent?subtype=refusal&_count=1',
    );
    const refused = await fhir(
      sandbox.url,
      school,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(f.ref, testBsn(), false),
    );
    expect(refused.status).toBe(422);
    const after = await fhir<Bundle>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/AuditEvent?subtype=refusal&_count=1',
    );
    expect(after.body.total).toBeGreaterThan(before.body.total!);
  });

  it('removes a care plan that carries a sensitive code in a contained resource, an extension or a tag', async () => {
    const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
    const payload: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'urn:uuid:0b1e6c8a-4a55-4c1b-9d2e-000000000001',
          resource: {
            resourceType: 'CarePlan',
            status: 'active',
            intent: 'plan',
            subject: { identifier: { system: BSN, value: NOAH } },
            contained: [
              {
                resourceType: 'Condition',
                id: 'reden',
                subject: { identifier: { system: BSN, value: NOAH } },
                code: { coding: [{ system: ICD10, code: 'T74.2' }] },
              },
            ],
            extension: [
              {
                url: 'https://example.org/x',
                valueCodeableConcept: { coding: [{ system: ICD10, code: 'F32' }] },
              },
            ],
            meta: { tag: [{ system: ICD10, code: 'F10' }] },
          },
        },
      ],
    };
    const sent = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(GP, NOAH, 'CAREMGT', payload),
    );
    // Nothing else was sent, so with the plan removed nothing is left to disclose.
    expect(sent.status).toBe(403);
    expect(JSON.stringify(sent.body)).toContain('nothing-to-disclose');
    const delivered = sent.body.parameter?.find((p) => p.name === 'delivered')?.resource as
      Bundle | undefined;
    expect(JSON.stringify(delivered ?? {})).not.toContain('T74.2');
    expect(JSON.stringify(delivered ?? {})).not.toContain('F32');
  });

  it('lets an organisation a consent names as recipient receive, not pass the data on to anyone else', async () => {
    // The GP registers Noah as well (same birth date as the CJG's registration, so no dispute).
    const own = await fhir<Patient>(
      sandbox.url,
      gp,
      'POST',
      '/fhir/Patient',
      patientResource(NOAH, '2017-03-14'),
    );
    expect([200, 201]).toContain(own.status);
    expect(verdict(await decide(cjg, question(NOAH, GP)))).toBe('permit');
    for (const recipient of [ORG.SCHOOL, ORG.MUNICIPALITY, 'Organization/onderzoek-jeugd']) {
      const answer = await decide(gp, question(NOAH, recipient));
      expect([recipient, verdict(answer)]).toEqual([recipient, 'deny']);
    }
    const pushed = await fhir(
      sandbox.url,
      gp,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(ORG.SCHOOL, NOAH, 'CAREMGT', carePlanPayload(NOAH, 'plan')),
    );
    expect(pushed.status).toBe(403);
  });

  it('answers a native format named after an Object member with 400, and an ill-formed Bundle to label with 422', async () => {
    for (const format of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const res = await fhir(sandbox.url, cjg, 'POST', '/fhir/$exchange', {
        resourceType: 'Parameters',
        parameter: [
          ...question(NOAH, GP).parameter!,
          { name: 'format', valueCode: format },
          { name: 'nativePayload', valueString: '{}' },
        ],
      });
      expect([format, res.status]).toEqual([format, 400]);
    }
    const label = await fhir(sandbox.url, cjg, 'POST', '/fhir/Bundle/$security-label', {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [null, { resource: { resourceType: 'Condition', subject: null } }],
    });
    expect(label.status).toBe(422);
    expect(JSON.stringify(label.body)).toContain('Bundle.entry[0]');
  });

  it('refuses a transaction entry whose URL names another type than its resource, and writes nothing', async () => {
    const bsn = testBsn();
    const res = await fhir(sandbox.url, cjg, 'POST', '/fhir', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patientResource(bsn, isoDateYearsAgo(8)), request: { method: 'POST', url: 'Consent' } },
      ],
    });
    expect(res.status).toBe(400);
    const found = await fhir<Bundle>(sandbox.url, cjg, 'GET', `/fhir/Patient?identifier=${BSN}|${bsn}`);
    expect(found.body.entry ?? []).toHaveLength(0);
  });

  it('refuses an oversized request head with an OperationOutcome, not a bare status line', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(sandbox.url).port), '127.0.0.1');
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write(`GET /fhir/Patient?x=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431/);
    expect(answer).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);
    expect(answer).toContain('"resourceType":"OperationOutcome"');
  });
});
