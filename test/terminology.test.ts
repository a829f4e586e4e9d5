// Terminology over HTTP: the gateway's CodeSystems and ValueSets, $validate-code and $expand (no token needed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, CodeSystem, Parameters, ValueSet } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { fhir, param, testSandbox } from './helpers.js';

const BASE = 'https://ketenpoort.nl/fhir';

describe('terminology', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
  });
  afterAll(() => sandbox.close());

  it('lists the CodeSystems: life domains, data categories, legal bases, decision reasons, agency roles, trajectories, levels, closure reasons, referral sources, municipal report groups', async () => {
    const res = await fhir<Bundle<CodeSystem>>(sandbox.url, undefined, 'GET', '/fhir/CodeSystem');
    expect(res.status).toBe(200);
    const ids = res.body.entry!.map((e) => e.resource!.id).sort();
    expect(ids).toEqual([
      'agency-role',
      'care-team-role',
      'closure-reason',
      'coordination-framework',
      'coordination-level',
      'data-category',
      'decision-reason',
      'law',
      'legal-basis',
      'life-domain',
      'municipal-report',
      'referral-source',
      'task-code',
      'trajectory-type',
    ]);
    const legal = await fhir<CodeSystem>(sandbox.url, undefined, 'GET', '/fhir/CodeSystem/legal-basis');
    expect(legal.body.concept!.map((c) => c.code)).toEqual(
      expect.arrayContaining(['jw-7.3.11-gi-ots', 'wams', 'gp-coach-notification', 'conflict-of-duties']),
    );
  });

  it('validates codes against a CodeSystem and its ValueSet', async () => {
    const ok = await fhir<Parameters>(
      sandbox.url,
      undefined,
      'GET',
      `/fhir/CodeSystem/$validate-code?url=${BASE}/CodeSystem/life-domain&code=finances`,
    );
    expect(param(ok.body, 'result')?.valueBoolean).toBe(true);
    expect(param(ok.body, 'display')?.valueString).toBe('Debts and finances');
    const bad = await fhir<Parameters>(
      sandbox.url,
      undefined,
      'GET',
      `/fhir/ValueSet/$validate-code?url=${BASE}/ValueSet/life-domain&code=astrology`,
    );
    expect(param(bad.body, 'result')?.valueBoolean).toBe(false);
    expect((await fhir(sandbox.url, undefined, 'GET', '/fhir/CodeSystem/$validate-code?code=x')).status).toBe(
      400,
    );
    expect(
      (
        await fhir(
          sandbox.url,
          undefined,
          'GET',
          `/fhir/CodeSystem/$validate-code?url=${BASE}/CodeSystem/nope&code=x`,
        )
      ).status,
    ).toBe(404);
  });

  it('expands a ValueSet, filtered and in Dutch', async () => {
    const res = await fhir<ValueSet>(
      sandbox.url,
      undefined,
      'GET',
      `/fhir/ValueSet/$expand?url=${BASE}/ValueSet/life-domain&displayLanguage=nl&filter=schuld`,
    );
    expect(res.body.expansion?.contains).toEqual([
      { system: `${BASE}/CodeSystem/life-domain`, code: 'finances', display: 'Schulden en financiën' },
    ]);
    const all = await fhir<ValueSet>(
      sandbox.url,
      undefined,
      'GET',
      `/fhir/ValueSet/$expand?url=${BASE}/ValueSet/life-domain`,
    );
    expect(all.body.expansion?.total).toBe(12);
  });
});
