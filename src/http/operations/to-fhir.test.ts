// $to-fhir over HTTP: a CJG referral form becomes the FHIR Bundle it maps to; an unknown format is a 404.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../paths.js';
import type { RunningSandbox } from '../../sandbox/index.js';
import { fhir, sandboxToken, testSandbox } from '../../../test/helpers.js';

const fixture = (name: string) => readFileSync(path.join(FIXTURES_DIR, 'referrals', name), 'utf8');

describe('mappings $to-fhir', () => {
  let sandbox: RunningSandbox;
  let token: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    token = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(() => sandbox?.close());
  const map = <T = Bundle>(format: string) =>
    fhir<T>(sandbox.url, token, 'POST', `/mappings/${format}/$to-fhir`, fixture('03-de-groot.json'));

  it('maps a referral form to its Bundle, with what was mapped as the last entry', async () => {
    const res = await map('cjg-referral');
    expect(res.status).toBe(200);
    const last = res.body.entry!.pop()!.resource as OperationOutcome;
    expect(last.issue?.[0]?.severity).toBe('information');
    expect(res.body).toEqual(JSON.parse(fixture('03-de-groot.bundle.json')));
  });

  it('answers 404 for a format the gateway does not know', async () => {
    const res = await map<OperationOutcome>('no-such-format');
    expect(res.status).toBe(404);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/Unknown mapping format "no-such-format"/);
  });
});
