// $consent-decision over HTTP: a question the consent covers is permitted, one it does not is denied with reasons;
// either is audited and moves no data.
import type { Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ORG, questionAbout, reasonCodes, verdictOf } from '../../../test/helpers.js';
import { consentingYoungPerson, operationServer } from '../../../test/operation-server.js';

describe('$consent-decision', () => {
  const server = operationServer();
  const decide = (body: Parameters) =>
    server.call<Parameters>('cjg', 'POST', '/fhir/$consent-decision', body);

  it('permits what the consent covers, and audits the decision', async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.GP);
    const res = await decide(questionAbout(bsn, ORG.GP));
    expect(res.status).toBe(200);
    expect(verdictOf(res.body)).toBe('permit');
    expect(await server.lastAuditSubtype()).toBe('consent-decision');
  });

  it('denies a recipient the consent does not name, with the reason', async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.GP);
    const res = await decide(questionAbout(bsn, ORG.SCHOOL));
    expect(res.status).toBe(200);
    expect(verdictOf(res.body)).toBe('deny');
    expect(reasonCodes(res.body).length).toBeGreaterThan(0);
  });
});
