// $withdraw over HTTP: the organisation that registered a consent withdraws it (inactive, audited); another
// organisation does not even learn that it exists.
import type { Consent, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ORG } from '../../../test/helpers.js';
import { consentingYoungPerson, operationServer } from '../../../test/operation-server.js';

describe('$withdraw', () => {
  const server = operationServer();
  const withdraw = <T>(role: string, id: string) =>
    server.call<T>(role, 'POST', `/fhir/Consent/${id}/$withdraw`);

  it('makes the consent inactive at once, with the moment of withdrawal, and audits it', async () => {
    const { consentId } = await consentingYoungPerson(server, ORG.GP);
    const res = await withdraw<Consent>('cjg', consentId);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('inactive');
    const at = res.body.extension?.find((e) => e.url.endsWith('/consent-withdrawn-at'))?.valueDateTime;
    expect(Date.parse(at!)).not.toBeNaN();
    expect(await server.lastAuditSubtype()).toBe('withdraw');
  });

  it('answers 404 to an organisation that did not register the consent', async () => {
    const { consentId } = await consentingYoungPerson(server, ORG.GP);
    const res = await withdraw<OperationOutcome>('youth-care', consentId);
    expect(res.status).toBe(404);
    expect(res.body.issue?.[0]?.diagnostics).toBe(
      `Consent/${consentId} is onbekend / Consent/${consentId} is not known`,
    );
  });
});
