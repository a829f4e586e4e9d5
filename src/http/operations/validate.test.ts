// $validate over HTTP: a well-formed Patient is valid, one with a BSN that fails the 11-test is not; a role that may
// not register persons may not ask either.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isoDateYearsAgo, patientResource } from '../../../test/helpers.js';
import { operationServer } from '../../../test/operation-server.js';

describe('$validate', () => {
  const server = operationServer();
  const validate = (role: string, bsn: string) =>
    server.call<OperationOutcome>(
      role,
      'POST',
      '/fhir/Patient/$validate',
      patientResource(bsn, isoDateYearsAgo(10)),
    );

  it('finds a well-formed Patient valid, and names a BSN that fails the 11-test', async () => {
    const valid = await validate('cjg', '999910036');
    expect(valid.status).toBe(200);
    expect(valid.body.issue?.[0]).toMatchObject({
      severity: 'information',
      diagnostics: 'De Patient is geldig / The Patient is valid',
    });
    const wrong = await validate('cjg', '123456789');
    expect(wrong.status).toBe(200);
    expect(wrong.body.issue?.some((i) => i.severity === 'error')).toBe(true);
  });

  it('refuses research with 403', async () => {
    const res = await validate('research', '999910036');
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
