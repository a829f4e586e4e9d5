// The person index: one person per BSN, conditional create, per-organisation visibility, versions, paging, withdrawal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, CapabilityStatement, Consent, Patient } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  consentResource,
  fhir,
  isoDateYearsAgo,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

describe('person index', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  let gp: string;
  let officer: string;
  let research: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    [cjg, gp, officer, research] = await Promise.all([
      sandboxToken(sandbox, 'cjg'),
      sandboxToken(sandbox, 'gp'),
      sandboxToken(sandbox, 'privacy-officer'),
      sandboxToken(sandbox, 'research'),
    ]);
  });
  afterAll(() => sandbox.close());

  it('keeps one registration per organisation and BSN: a plain create of a BSN it registered is 409, a conditional create returns its own', async () => {
    const bsn = testBsn();
    const first = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(7)),
    );
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toContain(`/fhir/Patient/${first.body.id}`);
    expect(
      (await fhir(sandbox.url, cjg, 'POST', '/fhir/Patient', patientResource(bsn, isoDateYearsAgo(7))))
        .status,
    ).toBe(409);
    const again = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(7)),
      { 'If-None-Exist': `identifier=${BSN}|${bsn}` },
    );
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    // Another organisation's registration stays its own: the GP gets a registration of its own, not the CJG's.
    const gpOwn = await fhir<Patient>(
      sandbox.url,
      gp,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(7)),
      { 'If-None-Exist': `identifier=${BSN}|${bsn}` },
    );
    expect(gpOwn.status).toBe(201);
    expect(gpOwn.body.id).not.toBe(first.body.id);
    expect((await fhir(sandbox.url, gp, 'GET', `/fhir/Patient/${first.body.id}`)).status).toBe(404);
  });

  it('hides what another organisation registered: read is 404 and search finds nothing', async () => {
    const bsn = testBsn();
    const created = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(10)),
    );
    expect((await fhir(sandbox.url, gp, 'GET', `/fhir/Patient/${created.body.id}`)).status).toBe(404);
    const search = await fhir<Bundle>(sandbox.url, gp, 'GET', `/fhir/Patient?identifier=${BSN}|${bsn}`);
    expect(search.body.total).toBe(0);
    const officerSearch = await fhir<Bundle>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/Patient?identifier=${BSN}|${bsn}`,
    );
    expect(officerSearch.body.total).toBe(1);
    expect((await fhir(sandbox.url, research, 'GET', `/fhir/Patient?identifier=${BSN}|${bsn}`)).status).toBe(
      403,
    );
  });

  it('updates with If-Match and answers 412 on a stale version', async () => {
    const created = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), isoDateYearsAgo(5)),
    );
    const ok = await fhir<Patient>(
      sandbox.url,
      cjg,
      'PUT',
      `/fhir/Patient/${created.body.id}`,
      { ...created.body, gender: 'male' },
      { 'If-Match': 'W/"1"' },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.meta?.versionId).toBe('2');
    const stale = await fhir(
      sandbox.url,
      cjg,
      'PUT',
      `/fhir/Patient/${created.body.id}`,
      { ...created.body, gender: 'female' },
      { 'If-Match': 'W/"1"' },
    );
    expect(stale.status).toBe(412);
  });

  it('finds consents by patient:identifier and pages through results', async () => {
    const bsn = testBsn();
    const child = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(17)),
    );
    const ref = `Patient/${child.body.id}`;
    for (const purpose of ['CAREMGT', 'TREAT', 'HRESCH']) {
      expect(
        (
          await fhir(
            sandbox.url,
            cjg,
            'POST',
            '/fhir/Consent',
            consentResource(ref, [ref], ['Organization/huisartsen-de-linde'], [purpose]),
          )
        ).status,
      ).toBe(201);
    }
    const page1 = await fhir<Bundle<Consent>>(
      sandbox.url,
      cjg,
      'GET',
      `/fhir/Consent?patient:identifier=${BSN}|${bsn}&_count=2`,
    );
    expect(page1.body.total).toBe(3);
    expect(page1.body.entry).toHaveLength(2);
    const next = page1.body.link?.find((l) => l.relation === 'next')?.url;
    expect(next).toBeDefined();
    const page2 = await fhir<Bundle<Consent>>(
      sandbox.url,
      cjg,
      'GET',
      new URL(next!).pathname + new URL(next!).search,
    );
    expect(page2.body.entry).toHaveLength(1);
    const active = await fhir<Bundle>(sandbox.url, cjg, 'GET', `/fhir/Consent?patient=${ref}&status=active`);
    expect(active.body.total).toBe(3);
  });

  it('withdraws a consent: inactive at once, with the time of withdrawal, and the exchange it allowed is denied', async () => {
    const bsn = testBsn();
    const child = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(17)),
    );
    const ref = `Patient/${child.body.id}`;
    const consent = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(ref, [ref], ['Organization/huisartsen-de-linde'], ['CAREMGT']),
    );
    const params = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'recipient', valueReference: { reference: 'Organization/huisartsen-de-linde' } },
        { name: 'subject', valueIdentifier: { system: BSN, value: bsn } },
        {
          name: 'purpose',
          valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
        },
        { name: 'payload', resource: { resourceType: 'Bundle', type: 'collection', entry: [] } },
      ],
    };
    expect((await fhir(sandbox.url, cjg, 'POST', '/fhir/$exchange', params)).status).toBe(202);
    const withdrawn = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      `/fhir/Consent/${consent.body.id}/$withdraw`,
    );
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.status).toBe('inactive');
    expect(withdrawn.body.extension?.[0]?.valueDateTime).toBeDefined();
    expect((await fhir(sandbox.url, cjg, 'POST', '/fhir/$exchange', params)).status).toBe(403);
  });

  it('lets only the admin role change the agency directory', async () => {
    const org = { resourceType: 'Organization', name: 'Nieuwe aanbieder' };
    expect((await fhir(sandbox.url, cjg, 'POST', '/fhir/Organization', org)).status).toBe(403);
    const admin = await sandboxToken(sandbox, 'admin');
    expect((await fhir(sandbox.url, admin, 'POST', '/fhir/Organization', org)).status).toBe(201);
  });
});

describe('metadata and operations endpoints', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
  });
  afterAll(() => sandbox.close());

  it('generates the CapabilityStatement from the registered routes', async () => {
    const res = await fhir<CapabilityStatement>(sandbox.url, undefined, 'GET', '/fhir/metadata');
    expect(res.status).toBe(200);
    const rest = res.body.rest![0]!;
    const types = rest.resource!.map((r) => r.type);
    for (const t of [
      'Patient',
      'RelatedPerson',
      'Group',
      'Organization',
      'Endpoint',
      'Consent',
      'Task',
      'AuditEvent',
    ])
      expect(types).toContain(t);
    expect(rest.operation?.map((o) => o.name)).toContain('exchange');
    const consent = rest.resource!.find((r) => r.type === 'Consent')!;
    expect(consent.operation?.map((o) => o.name)).toContain('withdraw');
    expect(consent.searchParam?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['identifier', 'patient', 'patient:identifier', 'status']),
    );
    expect(res.headers.get('x-request-id')).toMatch(/.+/);
    const related = rest.resource!.find((r) => r.type === 'RelatedPerson')!;
    expect(related.supportedProfile).toEqual(['https://ketenpoort.nl/fhir/StructureDefinition/parent']);
  });

  it('serves an OpenAPI description with the same routes', async () => {
    const res = await fetch(`${sandbox.url}/openapi.json`);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/fhir/$exchange',
        '/fhir/Patient/{id}',
        '/auth/token',
        '/fhir/Consent/{id}/$withdraw',
      ]),
    );
  });

  it('reports liveness and readiness, and echoes a caller-supplied X-Request-Id', async () => {
    expect((await fetch(`${sandbox.url}/health`)).status).toBe(200);
    const ready = await fetch(`${sandbox.url}/ready`, { headers: { 'X-Request-Id': 'trace-123' } });
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-request-id')).toBe('trace-123');
  });
});
