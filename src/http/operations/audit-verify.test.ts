// $verify over HTTP: a privacy officer finds the sandbox's audit chains intact, and the check is itself on record; an
// agency may not verify the log.
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { operationServer } from '../../../test/operation-server.js';

describe('AuditEvent $verify', () => {
  const server = operationServer();

  it('finds the chains intact for a privacy officer and records the check', async () => {
    const res = await server.call<Parameters>('privacy-officer', 'GET', '/fhir/AuditEvent/$verify');
    expect(res.status).toBe(200);
    const value = (name: string) => res.body.parameter!.find((p) => p.name === name);
    expect(value('valid')?.valueBoolean).toBe(true);
    expect(value('recorded')?.valueBoolean).toBe(true);
    expect(await server.lastAuditSubtype()).toBe('audit-read');
  });

  it('refuses an agency with 403', async () => {
    const res = await server.call<OperationOutcome>('cjg', 'GET', '/fhir/AuditEvent/$verify');
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
