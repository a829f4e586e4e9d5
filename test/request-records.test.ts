// $request-records: decide, pull from the source agency's FHIR server, minimise; source failures are never partial data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Parameters, RelatedPerson } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { fhir, sandboxToken, testSandbox } from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const NOAH = '999910036';
const DC = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';

const pull = (source: string, categories: string[]): Parameters => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'source', valueReference: { reference: source } },
    { name: 'subject', valueIdentifier: { system: BSN, value: NOAH } },
    {
      name: 'purpose',
      valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
    },
    ...categories.map((code) => ({ name: 'category', valueCoding: { system: DC, code } })),
  ],
});

describe('$request-records', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  beforeAll(async () => {
    sandbox = await testSandbox({ agencyTimeoutMs: 700 });
    cjg = await sandboxToken(sandbox, 'cjg');
    // Both parents let the CJG see Noah's identification, physical health and care plans (not mental health).
    const patient = await fhir<Bundle>(sandbox.url, cjg, 'GET', `/fhir/Patient?identifier=${BSN}|${NOAH}`);
    const ref = `Patient/${patient.body.entry![0]!.resource!.id}`;
    const parents = await fhir<Bundle<RelatedPerson>>(
      sandbox.url,
      cjg,
      'GET',
      `/fhir/RelatedPerson?patient=${ref}`,
    );
    const consent = await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', {
      resourceType: 'Consent',
      status: 'active',
      scope: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
      },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: ref },
      performer: parents.body.entry!.map((e) => ({ reference: `RelatedPerson/${e.resource!.id}` })),
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      provision: {
        type: 'permit',
        actor: [{ role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/cjg-venlo' } }],
        purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' }],
        code: ['identification', 'health', 'care-plan'].map((code) => ({ coding: [{ system: DC, code }] })),
      },
    });
    expect(consent.status).toBe(201);
  });
  afterAll(() => sandbox.close());

  it('returns what the consent covers from the GP, without the mental-health record, and lists what it removed', async () => {
    const res = await fhir<Bundle>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$request-records',
      pull('Organization/huisartsen-de-linde', ['identification', 'health', 'mental-health', 'care-plan']),
    );
    expect(res.status).toBe(200);
    const resources = res.body.entry!.map((e) => e.resource!);
    const ids = resources
      .filter((r) => r.resourceType !== 'OperationOutcome')
      .map((r) => `${r.resourceType}/${r.id}`)
      .sort();
    expect(ids).toEqual(['CarePlan/gp-plan', 'Condition/gp-asthma', 'Observation/gp-weight', 'Patient/noah']);
    const outcome = resources.find((r) => r.resourceType === 'OperationOutcome') as OperationOutcome;
    expect(
      outcome.issue?.some(
        (i) =>
          i.details?.coding?.[0]?.code === 'REDACT' && i.expression?.[0]?.endsWith('Condition/gp-anxiety'),
      ),
    ).toBe(true);
    expect(res.body.meta?.security?.map((l) => l.code)).toEqual(
      expect.arrayContaining(['R', 'consent-permits']),
    );
    const log = await fhir<Bundle>(
      sandbox.url,
      await sandboxToken(sandbox, 'privacy-officer'),
      'GET',
      `/fhir/AuditEvent?subtype=request-records&patient:identifier=${BSN}|${NOAH}`,
    );
    expect(log.body.total).toBe(1);
  });

  it('denies a pull no consent covers before asking the source anything', async () => {
    const school = await sandboxToken(sandbox, 'school');
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      school,
      'POST',
      '/fhir/$request-records',
      pull('Organization/huisartsen-de-linde', ['health']),
    );
    expect(res.status).toBe(403);
  });

  it('answers 502 when the source fails and 504 when it does not answer in time, with no data', async () => {
    sandbox.agencies.setBehaviour('huisartsen-de-linde', 'error');
    const failed = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$request-records',
      pull('Organization/huisartsen-de-linde', ['health']),
    );
    expect(failed.status).toBe(502);
    expect(failed.body.resourceType).toBe('OperationOutcome');
    sandbox.agencies.setBehaviour('huisartsen-de-linde', 'timeout');
    const slow = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$request-records',
      pull('Organization/huisartsen-de-linde', ['health']),
    );
    expect(slow.status).toBe(504);
    expect(slow.body.issue?.[0]?.diagnostics).toMatch(/did not answer/);
    sandbox.agencies.setBehaviour('huisartsen-de-linde', 'ok');
  });
});
