// The mapping endpoints over HTTP: field tables, JSON and CSV to FHIR, FHIR back to JSON and CSV, clear refusals.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { FIXTURES_DIR } from '../src/paths.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { sandboxToken, testSandbox } from './helpers.js';

const fixture = (name: string) => readFileSync(path.join(FIXTURES_DIR, 'referrals', name), 'utf8');

describe('mapping endpoints', () => {
  let sandbox: RunningSandbox;
  let token: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    token = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(() => sandbox?.close());
  const post = (p: string, body: string, type: string, extra: Record<string, string> = {}) =>
    fetch(`${sandbox.url}${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type, ...extra },
      body,
    });

  it('lists the formats with their field tables', async () => {
    const res = await fetch(`${sandbox.url}/mappings`);
    const body = (await res.json()) as {
      formats: { name: string; tables: { name: string; fields: { name: string; fhir: string }[] }[] }[];
    };
    expect(body.formats.map((f) => f.name)).toEqual([
      'cjg-referral',
      'youthcare-registration',
      'municipal-case',
    ]);
    const referral = body.formats.find((f) => f.name === 'cjg-referral')!;
    expect(referral.tables.map((t) => t.name)).toEqual(['referral', 'parent', 'child', 'agency']);
    expect(referral.tables[2]!.fields.find((f) => f.name === 'bsn')!.fhir).toMatch(/Patient.identifier/);
  });

  it('maps a JSON form to FHIR and back', async () => {
    const form = fixture('03-de-groot.json');
    const res = await post('/mappings/cjg-referral/$to-fhir', form, 'application/json');
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    const last = bundle.entry!.pop()!.resource as OperationOutcome;
    expect(last.issue![0]!.severity).toBe('information');
    expect(bundle).toEqual(JSON.parse(fixture('03-de-groot.bundle.json')));
    const back = await post(
      '/mappings/cjg-referral/$from-fhir',
      JSON.stringify(bundle),
      'application/fhir+json',
    );
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual(JSON.parse(form));
    expect(JSON.parse(decodeURIComponent(back.headers.get('x-mapping-outcome')!)).issue[0].severity).toBe(
      'information',
    );
  });

  it('maps a CSV of several forms and gives them back as CSV', async () => {
    const a = fixture('01-bakker.csv');
    const b = fixture('02-yilmaz.csv').split('\r\n').slice(1).join('\r\n');
    const res = await post('/mappings/cjg-referral/$to-fhir', a + b, 'text/csv');
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    bundle.entry!.pop();
    expect(bundle.entry!.map((e) => e.resource!.resourceType)).toEqual(['Bundle', 'Bundle']);
    const back = await post(
      '/mappings/cjg-referral/$from-fhir?_format=csv',
      JSON.stringify(bundle),
      'application/fhir+json',
    );
    expect(back.headers.get('content-type')).toMatch(/text\/csv/);
    expect(await back.text()).toBe(a + b);
  });

  it('maps a municipal case both ways, and refuses CSV for a JSON-only format', async () => {
    const record = readFileSync(path.join(FIXTURES_DIR, 'municipal-cases', '02-el-amrani-nora.json'), 'utf8');
    const res = await post('/mappings/municipal-case/$to-fhir', record, 'application/json');
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    bundle.entry!.pop();
    expect(bundle.entry!.filter((e) => e.resource!.resourceType === 'ServiceRequest')).toHaveLength(2);
    const back = await post(
      '/mappings/municipal-case/$from-fhir',
      JSON.stringify(bundle),
      'application/fhir+json',
    );
    expect(await back.json()).toEqual(JSON.parse(record));
    const csv = await post('/mappings/municipal-case/$to-fhir', 'a,b\r\n1,2\r\n', 'text/csv');
    expect(csv.status).toBe(400);
  });

  it('answers 422 with the place of each problem, 404 for an unknown format, 401 without a token', async () => {
    const form = JSON.parse(fixture('01-bakker.json'));
    form.children[0].bsn = '999999999';
    const res = await post('/mappings/cjg-referral/$to-fhir', JSON.stringify(form), 'application/json');
    expect(res.status).toBe(422);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue![0]!.expression).toEqual(['children[0].bsn']);
    const unknown = await post('/mappings/no-such-format/$to-fhir', '{}', 'application/json');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    const anonymous = await fetch(`${sandbox.url}/mappings/cjg-referral/$to-fhir`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(anonymous.status).toBe(401);
    const notABundle = await post(
      '/mappings/cjg-referral/$from-fhir',
      '{"resourceType":"Patient"}',
      'application/fhir+json',
    );
    expect([400, 422]).toContain(notABundle.status);
  });
});
