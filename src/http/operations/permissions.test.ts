// Patient/$permissions over HTTP: a privacy officer sees who may receive what about a person (audited); an agency that
// arranged none of the person's consents does not learn of them.
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { BSN_SYSTEM } from '../../../src/consent/constants.js';
import { ORG } from '../../../test/helpers.js';
import { consentingYoungPerson, operationServer } from '../../../test/operation-server.js';

describe('Patient/$permissions', () => {
  const server = operationServer();
  const overview = <T>(role: string, bsn: string) =>
    server.call<T>(role, 'GET', `/fhir/Patient/$permissions?identifier=${BSN_SYSTEM}|${bsn}`);

  it('names the recipient and purpose the consent permits, and audits the read', async () => {
    const { bsn, consentId } = await consentingYoungPerson(server, ORG.GP);
    const res = await overview<Parameters>('privacy-officer', bsn);
    expect(res.status).toBe(200);
    const lines = res.body.parameter!.filter((p) => p.name === 'permission');
    const part = (name: string) => lines.map((l) => l.part?.find((p) => p.name === name));
    expect(part('recipient').map((p) => p?.valueReference?.reference)).toEqual([ORG.GP]);
    expect(part('purpose').map((p) => p?.valueCoding?.code)).toEqual(['CAREMGT']);
    expect(part('consent').map((p) => p?.valueReference?.reference)).toEqual([`Consent/${consentId}`]);
    expect(await server.lastAuditSubtype()).toBe('read');
  });

  it("answers 404 to an agency that arranged none of the person's consents", async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.GP);
    const res = await overview<OperationOutcome>('youth-care', bsn);
    expect(res.status).toBe(404);
  });
});
