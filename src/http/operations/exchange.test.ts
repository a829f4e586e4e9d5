// $exchange over HTTP: a consented exchange is accepted (202, a Task, audited) and a repeated Idempotency-Key replays
// its answer; an exchange the consent does not cover is refused with 403.
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { carePlanPayload, exchangeParameters, ORG, param } from '../../../test/helpers.js';
import { consentingYoungPerson, operationServer } from '../../../test/operation-server.js';

describe('$exchange', () => {
  const server = operationServer();

  it('accepts a consented exchange with a Task, audits it, and replays the answer to the same Idempotency-Key', async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.GP);
    const body = exchangeParameters(ORG.GP, bsn, 'CAREMGT', carePlanPayload(bsn));
    const key = { 'Idempotency-Key': `exchange-${bsn}` };
    const first = await server.call<Parameters>('cjg', 'POST', '/fhir/$exchange', body, key);
    expect(first.status).toBe(202);
    const task = param(first.body, 'exchange')?.valueReference?.reference;
    expect(first.headers.get('content-location')).toBe(`/fhir/${task}`);
    // The delivery worker may record its own audit event meanwhile: the answer names the exchange's.
    const auditId = param(first.body, 'auditEvent')?.valueReference?.reference?.split('/')[1];
    const [audited] = await server.sandbox.ctx.db.query<{ subtype: string }>(
      'SELECT subtype FROM audit_events WHERE id = $1',
      [auditId],
    );
    expect(audited?.subtype).toBe('exchange');
    const again = await server.call<Parameters>('cjg', 'POST', '/fhir/$exchange', body, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(param(again.body, 'exchange')?.valueReference?.reference).toBe(task);
  });

  it('refuses an exchange to a recipient the consent does not name with 403', async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.GP);
    const res = await server.call<OperationOutcome>(
      'cjg',
      'POST',
      '/fhir/$exchange',
      exchangeParameters(ORG.SCHOOL, bsn, 'CAREMGT', carePlanPayload(bsn)),
    );
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
