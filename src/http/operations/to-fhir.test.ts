// $to-fhir over HTTP: a CJG referral form becomes the FHIR Bundle it maps to; an unknown format is a 404.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../paths.js';
import { operationServer } from '../../../test/operation-server.js';

const referral = (name: string) => readFileSync(path.join(FIXTURES_DIR, 'referrals', name), 'utf8');

describe('mappings $to-fhir', () => {
  const server = operationServer();
  const map = <T>(format: string) =>
    server.call<T>('cjg', 'POST', `/mappings/${format}/$to-fhir`, referral('03-de-groot.json'));

  it('maps a referral form to its Bundle, with what was mapped as the last entry', async () => {
    const res = await map<Bundle>('cjg-referral');
    expect(res.status).toBe(200);
    const last = res.body.entry!.pop()!.resource as OperationOutcome;
    expect(last.issue?.[0]?.severity).toBe('information');
    expect(res.body).toEqual(JSON.parse(referral('03-de-groot.bundle.json')));
  });

  it('answers 404 for a format the gateway does not know', async () => {
    const res = await map<OperationOutcome>('no-such-format');
    expect(res.status).toBe(404);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/Unknown mapping format "no-such-format"/);
  });
});
