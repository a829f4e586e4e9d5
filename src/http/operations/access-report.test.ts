// Patient/$access-report over HTTP: the person reads who asked about or received their data (audited); someone else is refused.
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { BSN_SYSTEM } from '../../../src/consent/constants.js';
import { fhir, ORG, personToken, questionAbout } from '../../../test/helpers.js';
import { consentingYoungPerson, operationServer } from '../../../test/operation-server.js';

describe('Patient/$access-report', () => {
  const server = operationServer();
  const report = async <T>(reader: string, bsn: string) =>
    fhir<T>(
      server.sandbox.url,
      await personToken(server.sandbox, reader),
      'GET',
      `/fhir/Patient/$access-report?identifier=${BSN_SYSTEM}|${bsn}`,
    );

  it('shows the person who asked about sharing their data, and audits the read', async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.GP);
    const asked = await server.call('cjg', 'POST', '/fhir/$consent-decision', questionAbout(bsn, ORG.GP));
    expect(asked.status).toBe(200);
    const res = await report<Bundle<AuditEvent>>(bsn, bsn);
    expect(res.status).toBe(200);
    const line = res.body.entry?.[0]?.resource?.extension?.[0]?.valueString;
    expect(line).toMatch(
      /vroeg of gegevens gedeeld mochten worden \(zorgcoördinatie; toestemming; toegestaan\)$/,
    );
    expect(await server.lastAuditSubtype()).toBe('audit-read');
  });

  it("refuses someone else's report with 403", async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.GP);
    const other = await consentingYoungPerson(server, ORG.GP);
    const res = await report<OperationOutcome>(other.bsn, bsn);
    expect(res.status).toBe(403);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(
      /^U mag het overzicht van uzelf zien .* \/ You may see the report of yourself/,
    );
  });
});
