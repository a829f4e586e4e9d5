// $request-records over HTTP: a consented pull answers the source's records, minimised, and is audited; a pull no
// consent covers is refused with 403 before the source is asked.
import type { Bundle, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ORG, questionAbout } from '../../../test/helpers.js';
import { consentingYoungPerson, operationServer } from '../../../test/operation-server.js';

const pull = (bsn: string): Parameters => {
  const question = questionAbout(bsn, ORG.GP);
  return {
    ...question,
    parameter: [
      { name: 'source', valueReference: { reference: ORG.GP } },
      ...question.parameter!.filter((p) => p.name !== 'recipient'),
      {
        name: 'category',
        valueCoding: {
          system: 'https://ketenpoort.nl/fhir/CodeSystem/data-category',
          code: 'identification',
        },
      },
    ],
  };
};

describe('$request-records', () => {
  const server = operationServer();
  const request = <T>(bsn: string) => server.call<T>('cjg', 'POST', '/fhir/$request-records', pull(bsn));

  it('answers what the source holds and the consent covers, and audits the pull', async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.CJG);
    const res = await request<Bundle>(bsn);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Bundle');
    // The decision travels with the records: its reasons and obligations, and the Bundle's security labels.
    expect(res.body.entry?.some((e) => e.resource?.resourceType === 'OperationOutcome')).toBe(true);
    expect(res.body.meta?.security?.length).toBeGreaterThan(0);
    expect(await server.lastAuditSubtype()).toBe('request-records');
  });

  it('refuses a pull no consent covers with 403', async () => {
    const { bsn } = await consentingYoungPerson(server, ORG.SCHOOL);
    const res = await request<OperationOutcome>(bsn);
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
