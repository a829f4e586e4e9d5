// $from-fhir over HTTP: a referral Bundle comes back as the form it was mapped from; a body that is no Bundle is refused.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../paths.js';
import { operationServer } from '../../../test/operation-server.js';

const referral = (name: string) => readFileSync(path.join(FIXTURES_DIR, 'referrals', name), 'utf8');

describe('mappings $from-fhir', () => {
  const server = operationServer();
  const back = (body: string) =>
    server.call<OperationOutcome>('cjg', 'POST', '/mappings/cjg-referral/$from-fhir', body);

  it('writes a referral Bundle as the form it came from', async () => {
    const res = await back(referral('03-de-groot.bundle.json'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(referral('03-de-groot.json')));
    const outcome = JSON.parse(decodeURIComponent(res.headers.get('x-mapping-outcome')!)) as OperationOutcome;
    expect(outcome.issue?.[0]?.severity).toBe('information');
  });

  it('refuses a body that is not a Bundle', async () => {
    const res = await back(JSON.stringify({ resourceType: 'Patient' }));
    expect([400, 422]).toContain(res.status);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
