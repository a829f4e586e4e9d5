// The decision endpoints over HTTP: $consent-decision, legal exceptions with review Tasks, minimisation, CDS Hooks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Parameters, Task } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { exchangeParameters, fhir, param, sandboxToken, testSandbox } from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const NOAH = '999910036';
const GP = 'Organization/huisartsen-de-linde';
const SCHOOL = 'Organization/school-de-wilgen';
const GI = 'Organization/gi-jeugdbescherming-zuid';
const LIFE = 'https://ketenpoort.nl/fhir/CodeSystem/life-domain';

function question(recipient: string, purpose = 'CAREMGT', extra: Parameters['parameter'] = []): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'recipient', valueReference: { reference: recipient } },
      { name: 'subject', valueIdentifier: { system: BSN, value: NOAH } },
      {
        name: 'purpose',
        valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: purpose },
      },
      ...(extra ?? []),
    ],
  };
}

const noahPayload = (): Bundle => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      fullUrl: 'urn:uuid:11111111-0000-4000-8000-000000000001',
      resource: {
        resourceType: 'Patient',
        identifier: [{ system: BSN, value: NOAH }],
        birthDate: '2017-03-14',
        name: [{ family: 'Jansen' }],
      },
    },
    {
      fullUrl: 'urn:uuid:11111111-0000-4000-8000-000000000002',
      resource: {
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject: { reference: 'urn:uuid:11111111-0000-4000-8000-000000000001' },
      },
    },
    {
      fullUrl: 'urn:uuid:11111111-0000-4000-8000-000000000003',
      resource: {
        resourceType: 'Condition',
        subject: { reference: 'urn:uuid:11111111-0000-4000-8000-000000000001' },
        code: { coding: [{ system: LIFE, code: 'mental-health' }] },
      },
    },
  ],
});

describe('decision endpoints', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  let gp: string;
  let officer: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    [cjg, gp, officer] = await Promise.all([
      sandboxToken(sandbox, 'cjg'),
      sandboxToken(sandbox, 'gp'),
      sandboxToken(sandbox, 'privacy-officer'),
    ]);
  });
  afterAll(() => sandbox.close());

  it('$consent-decision permits what the family consented to, names the consent, and is audited', async () => {
    const res = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', question(GP));
    expect(res.status).toBe(200);
    expect(param(res.body, 'decision')?.valueCode).toBe('permit');
    expect(param(res.body, 'basis')?.valueCode).toBe('consent');
    expect(param(res.body, 'consent')?.valueReference?.reference).toMatch(/^Consent\//);
    const auditRef = param(res.body, 'auditEvent')!.valueReference!.reference!;
    const event = await fhir<{ subtype: { code: string }[] }>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/${auditRef}`,
    );
    expect(event.body.subtype[0]!.code).toBe('consent-decision');
  });

  it('explains a deny in Dutch to the organisation that registered the consents, and only in general terms to others', async () => {
    const own = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$consent-decision',
      question(SCHOOL),
      { 'Accept-Language': 'nl-NL,nl;q=0.9,en;q=0.5' },
    );
    expect(param(own.body, 'decision')?.valueCode).toBe('deny');
    const text = param(own.body, 'reason')!.part!.find((p) => p.name === 'text')!.valueString!;
    expect(text).toBe('Toestemming van de moeder (gezag) en de vader (gezag) ontbreekt; het kind is 9.');
    const other = await fhir<Parameters>(
      sandbox.url,
      gp,
      'POST',
      '/fhir/$consent-decision',
      question(SCHOOL),
    );
    const otherText = param(other.body, 'reason')!.part!.find((p) => p.name === 'text')!.valueString!;
    expect(otherText).toBe('No consent covers this recipient and purpose.');
  });

  it('minimises an exchange: sensitive data the consent does not name are removed and listed', async () => {
    const res = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(GP, NOAH, 'CAREMGT', noahPayload()),
    );
    expect(res.status).toBe(202);
    const delivered = param(res.body, 'delivered')!.resource as Bundle;
    expect(delivered.entry?.map((e) => e.resource?.resourceType)).toEqual(['Patient', 'CarePlan']);
    expect(delivered.meta?.security?.map((l) => l.code)).toEqual(
      expect.arrayContaining(['R', 'CAREMGT', 'REDACT']),
    );
    const obligation = res.body.parameter!.find((p) => p.name === 'obligation')!;
    expect(obligation.part!.find((p) => p.name === 'code')!.valueCode).toBe('REDACT');
    expect(obligation.part!.find((p) => p.name === 'removed')!.valueReference!.reference).toBe(
      'urn:uuid:11111111-0000-4000-8000-000000000003',
    );
  });

  it('lets a named legal exception through with its justification and opens a review Task for the privacy officer', async () => {
    const extra: Parameters['parameter'] = [
      {
        name: 'legalBasis',
        valueCoding: {
          system: 'https://ketenpoort.nl/fhir/CodeSystem/legal-basis',
          code: 'jw-7.3.11-gi-ots',
        },
      },
      {
        name: 'justification',
        valueString: 'Ondertoezichtstelling sinds maart; de GI vraagt het gezinsplan op.',
      },
      {
        name: 'criterion',
        part: [
          { name: 'code', valueCode: 'court-order' },
          { name: 'value', valueBoolean: true },
        ],
      },
    ];
    const res = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(GI, NOAH, 'CAREMGT', noahPayload(), extra),
    );
    expect(res.status).toBe(202);
    expect(param(res.body, 'basis')?.valueCode).toBe('legal-exception');
    const codes = res.body
      .parameter!.filter((p) => p.name === 'obligation')
      .map((o) => o.part!.find((p) => p.name === 'code')!.valueCode);
    expect(codes).toContain('REVIEW');
    const reviewRef = param(res.body, 'review')!.valueReference!.reference!;
    const queue = await fhir<Bundle<Task>>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/Task?code=legal-exception-review&status=requested',
    );
    const review = queue.body.entry?.map((e) => e.resource!).find((t) => `Task/${t.id}` === reviewRef);
    expect(review?.input?.find((i) => i.type.text === 'justification')?.valueString).toMatch(
      /Ondertoezichtstelling/,
    );
    expect(review?.input?.find((i) => i.type.text === 'criterion:court-order')?.valueString).toBe('true');
  });

  it('denies a basis that is not in force, and a legal basis without its justification', async () => {
    const wams = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(GI, NOAH, 'CAREMGT', noahPayload(), [
        {
          name: 'legalBasis',
          valueCoding: { system: 'https://ketenpoort.nl/fhir/CodeSystem/legal-basis', code: 'wams' },
        },
        { name: 'justification', valueString: 'Meervoudige problematiek; alle partners moeten alles weten.' },
      ]),
    );
    expect(wams.status).toBe(403);
    expect(wams.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('legal-basis-not-in-force');
    const bare = await fhir<OperationOutcome>(
      sandbox.url,
      gp,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/veilig-thuis-noord-limburg', NOAH, 'CAREMGT', noahPayload(), [
        {
          name: 'legalBasis',
          valueCoding: {
            system: 'https://ketenpoort.nl/fhir/CodeSystem/legal-basis',
            code: 'wmo-5.2.6-veilig-thuis',
          },
        },
      ]),
    );
    expect(bare.status).toBe(403);
    expect(bare.body.issue?.map((i) => i.details?.coding?.[0]?.code)).toEqual([
      'justification-missing',
      'criterion-missing',
    ]);
    expect(bare.body.issue?.[0]?.diagnostics).toBe('A legal basis needs a justification.');
  });

  it('replays a decision as of a past moment for a privacy officer, from the consents as they were then', async () => {
    const bsn = '999910103';
    const child = await fhir<{ id: string }>(sandbox.url, cjg, 'POST', '/fhir/Patient', {
      resourceType: 'Patient',
      identifier: [{ system: BSN, value: bsn }],
      birthDate: '2008-01-01',
    });
    const ref = `Patient/${child.body.id}`;
    const consent = await fhir<{ id: string }>(sandbox.url, cjg, 'POST', '/fhir/Consent', {
      resourceType: 'Consent',
      status: 'active',
      scope: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
      },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: ref },
      performer: [{ reference: ref }],
      policyRule: { coding: [{ code: 'OPTIN' }] },
      provision: {
        type: 'permit',
        actor: [{ role: { coding: [{ code: 'IRCP' }] }, reference: { reference: GP } }],
        purpose: [{ code: 'CAREMGT' }],
      },
    });
    expect(consent.status, JSON.stringify(consent.body)).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    const whileActive = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await fhir(sandbox.url, cjg, 'POST', `/fhir/Consent/${consent.body.id}/$withdraw`);
    const ask = (token: string, at?: string) =>
      fhir<Parameters>(sandbox.url, token, 'POST', '/fhir/$consent-decision', {
        resourceType: 'Parameters',
        parameter: [
          { name: 'recipient', valueReference: { reference: GP } },
          { name: 'subject', valueIdentifier: { system: BSN, value: bsn } },
          { name: 'purpose', valueCoding: { code: 'CAREMGT' } },
          ...(at
            ? [
                { name: 'at', valueDateTime: at },
                { name: 'requester', valueReference: { reference: 'Organization/cjg-venlo' } },
              ]
            : []),
        ],
      });
    expect(param((await ask(cjg)).body, 'decision')?.valueCode).toBe('deny');
    const replay = await ask(officer, whileActive);
    expect(replay.status).toBe(200);
    expect(param(replay.body, 'decision')?.valueCode, JSON.stringify(replay.body)).toBe('permit');
    expect(param(replay.body, 'consent')?.valueReference?.reference).toBe(`Consent/${consent.body.id}`);
    expect((await ask(cjg, whileActive)).status).toBe(403);
  });

  it('decides for a whole family by its identifier, per member', async () => {
    const res = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'recipient', valueReference: { reference: 'Organization/jeugdzorg-horizon' } },
        {
          name: 'subject',
          valueIdentifier: {
            system: 'https://ketenpoort.nl/fhir/NamingSystem/family-id',
            value: 'venlo-gezin-0001',
          },
        },
        { name: 'purpose', valueCoding: { code: 'CAREMGT' } },
      ],
    });
    expect(param(res.body, 'decision')?.valueCode).toBe('permit');
    expect(res.body.parameter!.filter((p) => p.name === 'consent')).toHaveLength(2);
  });
});

describe('CDS Hooks (LEAP-compatible)', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  const body = (actorUra: string, purposeOfUse = 'CAREMGT') => ({
    hook: 'patient-consent-consult',
    hookInstance: 'test-1',
    context: {
      patientId: [{ system: BSN, value: NOAH }],
      scope: 'patient-privacy',
      purposeOfUse,
      actor: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: actorUra }],
    },
  });
  const post = (token: string | undefined, payload: unknown) =>
    fetch(`${sandbox.url}/cds-services/patient-consent-consult`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(payload),
    });
  beforeAll(async () => {
    sandbox = await testSandbox();
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(() => sandbox.close());

  it('lists the consent service', async () => {
    const res = (await (await fetch(`${sandbox.url}/cds-services`)).json()) as {
      services: { id: string; hook: string }[];
    };
    expect(res.services).toEqual([
      expect.objectContaining({ id: 'patient-consent-consult', hook: 'patient-consent-consult' }),
      expect.objectContaining({ id: 'bundle-security-label', hook: 'bundle-security-label' }),
    ]);
  });

  it('answers CONSENT_PERMIT with the consent it is based on', async () => {
    const res = await post(cjg, body('90000107'));
    expect(res.status).toBe(200);
    const { cards } = (await res.json()) as {
      cards: { summary: string; extension: { decision: string; basedOn: string; obligations: unknown[] } }[];
    };
    expect(cards[0]!.summary).toBe('CONSENT_PERMIT');
    expect(cards[0]!.extension.decision).toBe('CONSENT_PERMIT');
    expect(cards[0]!.extension.basedOn).toMatch(new RegExp(`^${sandbox.url}/fhir/Consent/`));
  });

  it('answers NO_CONSENT where nothing covers the recipient, and CONSENT_DENY once a parent refuses', async () => {
    const none = (await (await post(cjg, body('90000108'))).json()) as { cards: { summary: string }[] };
    expect(none.cards[0]!.summary).toBe('NO_CONSENT');
    const patient = await fhir<Bundle>(sandbox.url, cjg, 'GET', `/fhir/Patient?identifier=${BSN}|${NOAH}`);
    const patientRef = `Patient/${patient.body.entry![0]!.resource!.id}`;
    const parents = await fhir<Bundle>(sandbox.url, cjg, 'GET', `/fhir/RelatedPerson?patient=${patientRef}`);
    const refusal = {
      resourceType: 'Consent',
      status: 'active',
      scope: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
      },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: patientRef },
      performer: [{ reference: `RelatedPerson/${parents.body.entry![0]!.resource!.id}` }],
      policyRule: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }],
      },
      provision: {
        type: 'deny',
        actor: [
          { role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/school-de-wilgen' } },
        ],
      },
    };
    expect((await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', refusal)).status).toBe(201);
    const denied = (await (await post(cjg, body('90000108'))).json()) as {
      cards: { summary: string; detail: string }[];
    };
    expect(denied.cards[0]!.summary).toBe('CONSENT_DENY');
  });

  it('rejects a malformed request with 400 (as LEAP does) and an unauthenticated one with 401', async () => {
    const bad = await post(cjg, { hook: 'patient-consent-consult', context: { patientId: [] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect((await post(undefined, body('90000107'))).status).toBe(401);
  });
});
