// Bad input gets a clear OperationOutcome (400/413/422), never a 500, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  consentResource,
  exchangeParameters,
  fhir,
  isoDateYearsAgo,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';

describe('bad input', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  const counts = async () => {
    const [r] = await sandbox.ctx.db.query<{ resources: number; audit: number; jobs: number }>(
      'SELECT (SELECT count(*)::int FROM resources) AS resources, (SELECT count(*)::int FROM audit_events) AS audit, (SELECT count(*)::int FROM delivery_jobs) AS jobs',
    );
    return r!;
  };
  beforeAll(async () => {
    sandbox = await testSandbox();
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(() => sandbox.close());

  it('answers invalid JSON with 400 and stores nothing', async () => {
    const before = await counts();
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      '{"resourceType": "Patient",',
    );
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
    expect(await counts()).toEqual(before);
  });

  it('answers a wrong resourceType with 400', async () => {
    const before = await counts();
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Patient', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
    });
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/Expected resourceType Patient/);
    expect(await counts()).toEqual(before);
  });

  it('answers a Consent without patient with 422 naming the element, and stores nothing', async () => {
    const before = await counts();
    const { patient: _none, ...consent } = consentResource(
      'Patient/x',
      ['Patient/x'],
      ['Organization/huisartsen-de-linde'],
      ['CAREMGT'],
    );
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Consent', consent);
    expect(res.status).toBe(422);
    expect(res.body.issue?.some((i) => i.expression?.includes('Consent.patient'))).toBe(true);
    expect(await counts()).toEqual(before);
  });

  it('answers a profile violation (unknown element, invalid BSN) with 422 and element paths', async () => {
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Patient', {
      ...patientResource('999911121', '2015-01-01'),
      hairColour: 'red',
    });
    expect(res.status).toBe(422);
    const paths = res.body.issue?.flatMap((i) => i.expression ?? []);
    expect(paths).toContain('Patient.hairColour');
    expect(paths).toContain('Patient.identifier[0].value');
  });

  it('answers a 5 MB body with 413 and stores nothing', async () => {
    const before = await counts();
    const huge = JSON.stringify({
      ...patientResource(testBsn(), '2015-01-01'),
      text: { status: 'generated', div: `<div>${'x'.repeat(5 * 1024 * 1024)}</div>` },
    });
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Patient', huge);
    expect(res.status).toBe(413);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await counts()).toEqual(before);
  });

  it('rolls back a whole transaction Bundle when one entry is invalid', async () => {
    const before = await counts();
    const bsn = testBsn();
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:a',
          resource: patientResource(bsn, isoDateYearsAgo(8)),
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { resourceType: 'Consent', status: 'active' },
          request: { method: 'POST', url: 'Consent' },
        },
      ],
    });
    expect(res.status).toBe(422);
    expect(await counts()).toEqual(before);
    const search = await fhir<{ total: number }>(
      sandbox.url,
      cjg,
      'GET',
      `/fhir/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|${bsn}`,
    );
    expect(search.body.total).toBe(0);
  });

  it('answers $exchange without required parameters with 400, and an unknown recipient with 422', async () => {
    const missing = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/$exchange', {
      resourceType: 'Parameters',
      parameter: [],
    });
    expect(missing.status).toBe(400);
    expect(missing.body.issue?.[0]?.diagnostics).toMatch(/subject/);
    const payload: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [] };
    const unknown = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/nope', '999910036', 'CAREMGT', payload),
    );
    expect(unknown.status).toBe(422);
  });

  it('checks the gateway rules inside an exchange payload too: a wrong BSN in the Bundle is a 422 with its path', async () => {
    const before = await counts();
    const payload: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: patientResource('999910141', '2015-01-01') }],
    };
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/huisartsen-de-linde', '999910036', 'CAREMGT', payload),
    );
    expect(res.status).toBe(422);
    expect(res.body.issue?.flatMap((i) => i.expression ?? [])).toContain(
      'Parameters.parameter[3].resource.entry[0].resource.identifier[0].value',
    );
    expect(await counts()).toEqual(before);
  });

  it('answers unknown routes and unknown search parameters with OperationOutcomes', async () => {
    expect((await fhir(sandbox.url, cjg, 'GET', '/fhir/Observation/1')).status).toBe(404);
    const bad = await fhir<OperationOutcome>(sandbox.url, cjg, 'GET', '/fhir/Patient?colour=red');
    expect(bad.status).toBe(400);
    expect(bad.body.issue?.[0]?.diagnostics).toMatch(/Unknown search parameter "colour"/);
  });

  it('answers bad report input with 400, 413 or 422 and an OperationOutcome, never a 500, and stores nothing', async () => {
    const before = await counts();
    const trajectories = async () =>
      (await sandbox.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM report_trajectories'))[0]!.n;
    const stored = await trajectories();
    const post = (body: unknown) =>
      fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/reports/$record-trajectory', body);
    for (const [body, status] of [
      ['{"resourceType": "Parameters",', 400],
      [[1, 2, 3], 400],
      [{ resourceType: 'Patient' }, 400],
      [
        {
          resourceType: 'Parameters',
          parameter: [{ name: 'trajectory', resource: { resourceType: 'Patient' } }],
        },
        422,
      ],
      [{ resourceType: 'Parameters', parameter: [{ name: 'municipality', valueString: 'Venlo' }] }, 400],
      [
        `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"${'a'.repeat(5_000_000)}"}]}`,
        413,
      ],
    ] as const) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    for (const query of [
      'period[]=2023&municipality=0984',
      'period=2023&period=2024&municipality=0984',
      'period=9999-Q9',
    ]) {
      const res = await fhir<OperationOutcome>(sandbox.url, officer, 'GET', `/reports/$municipal?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect(await trajectories()).toBe(stored);
    expect((await counts()).resources).toBe(before.resources);
  });
});
