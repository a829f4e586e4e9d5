import { describe, expect, it } from 'vitest';
import type { Consent, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { loadCatalogue } from './catalogue.js';
import { decide } from './decide.js';
import type { DecisionRequest } from './types.js';

const at = new Date('2026-03-01T12:00:00Z');
const child: Patient = {
  resourceType: 'Patient',
  id: 'child',
  identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910036' }],
  birthDate: '2017-03-14',
};
const mother: RelatedPerson = {
  resourceType: 'RelatedPerson',
  id: 'mother',
  patient: { reference: 'Patient/child' },
  extension: [
    { url: 'https://ketenpoort.nl/fhir/StructureDefinition/parental-authority', valueBoolean: true },
  ],
};
/** Stored by an older release that did not check FHIR well-formedness. */
const malformed = {
  resourceType: 'Consent',
  id: 'broken',
  status: 'active',
  scope: { coding: [{ code: 'patient-privacy' }] },
  patient: { reference: 'Patient/child' },
  performer: [null],
  provision: { type: 'permit' },
} as unknown as Consent;
const facts = { subject: child, relatedPersons: [mother], consents: [malformed] };
const request = (extra: Partial<DecisionRequest>): DecisionRequest => ({
  requesterOrg: 'Organization/cjg-venlo',
  requesterRole: 'cjg',
  recipientOrg: 'Organization/veilig-thuis-noord-limburg',
  recipientRole: 'veilig-thuis',
  subjectBsn: '999910036',
  purpose: { code: 'CAREMGT' },
  ...extra,
});

describe('a consent the engine cannot evaluate', () => {
  const catalogue = loadCatalogue();

  it('is skipped and reported for a legal exception that does not rest on consent (Wmo 5.2.6)', () => {
    const d = decide(
      request({
        legalBasis: { code: 'wmo-5.2.6-veilig-thuis' },
        justification: 'Signalen van huiselijk geweld; meldcode stap 5.',
        criteria: { 'meldcode-followed': true },
      }),
      facts,
      catalogue,
      at,
    );
    expect(d.decision).toBe('permit');
    expect(d.reasons).toContainEqual({ code: 'consent-unevaluable', params: { consents: 'Consent/broken' } });
  });

  it('still fails closed where consent is the basis or an objection could stop the exchange', () => {
    expect(decide(request({}), facts, catalogue, at).reasons[0]?.code).toBe('decision-error');
    const optOut = decide(
      request({
        recipientOrg: 'Organization/huisartsen-de-linde',
        legalBasis: { code: 'gp-coach-notification' },
        justification: 'x',
      }),
      facts,
      catalogue,
      at,
    );
    expect(optOut.decision).toBe('deny');
  });
});
