// $validate over HTTP: a well-formed Patient is valid, one with a BSN that fails the 11-test is not; a role that may
// not register persons may not ask either.
import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.js';
import { fhir, isoDateYearsAgo, patientResource, sandboxToken, testSandbox } from '../../../test/helpers.js';

describe('$validate', () => {
  let sandbox: RunningSandbox;
  let token: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    token = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(() => sandbox?.close());
  const validate = (patient: Patient, as = token) =>
    fhir<OperationOutcome>(sandbox.url, as, 'POST', '/fhir/Patient/$validate', patient);

  it('finds a well-formed Patient valid, and names a BSN that fails the 11-test', async () => {
    const valid = await validate(patientResource('999910036', isoDateYearsAgo(10)));
    expect(valid.status).toBe(200);
    expect(valid.body.issue?.[0]).toMatchObject({
      severity: 'information',
      diagnostics: 'The Patient is valid',
    });
    const wrong = await validate(patientResource('123456789', isoDateYearsAgo(10)));
    expect(wrong.status).toBe(200);
    expect(wrong.body.issue?.some((i) => i.severity === 'error')).toBe(true);
  });

  it('refuses research with 403', async () => {
    const research = await sandboxToken(sandbox, 'research');
    const res = await validate(patientResource('999910036', isoDateYearsAgo(10)), research);
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
