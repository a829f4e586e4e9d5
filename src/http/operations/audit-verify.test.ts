// $verify over HTTP: a privacy officer finds the sandbox's audit chains intact, and the check is itself on record; an
// agency may not verify the log.
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.js';
import { fhir, sandboxToken, testSandbox } from '../../../test/helpers.js';

describe('AuditEvent $verify', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
  });
  afterAll(() => sandbox?.close());
  const verify = async <T = Parameters>(role: string) =>
    fhir<T>(sandbox.url, await sandboxToken(sandbox, role), 'GET', '/fhir/AuditEvent/$verify');

  it('finds the chains intact for a privacy officer and records the check', async () => {
    const res = await verify('privacy-officer');
    expect(res.status).toBe(200);
    const value = (name: string) => res.body.parameter!.find((p) => p.name === name);
    expect(value('valid')?.valueBoolean).toBe(true);
    expect(value('recorded')?.valueBoolean).toBe(true);
    const [last] = await sandbox.ctx.db.query<{ subtype: string }>(
      'SELECT subtype FROM audit_events ORDER BY seq DESC LIMIT 1',
    );
    expect(last?.subtype).toBe('audit-read');
  });

  it('refuses an agency with 403', async () => {
    const res = await verify<OperationOutcome>('cjg');
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
