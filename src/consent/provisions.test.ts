// Consent periods as Dutch calendar dates: a provision with a date-only start or end holds for whole days in
// Amsterdam, in summer time (UTC+2) as in winter time (UTC+1).
import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { evaluateConsent } from './provisions.js';
import type { DecisionRequest } from './types.js';

// Care coordination from the CJG to the school.
const request: DecisionRequest = {
  subjectBsn: '999911120',
  purpose: { code: 'CAREMGT' },
  requesterOrg: 'Organization/cjg-venlo',
  requesterRole: 'cjg',
  recipientOrg: 'Organization/school-de-wilgen',
};

/** A permit for the school, for care coordination, over `period`. */
const consentFor = (period: ConsentProvision['period']): Consent => ({
  resourceType: 'Consent',
  id: 'period',
  status: 'active',
  scope: { coding: [{ code: 'patient-privacy' }] },
  category: [{ coding: [{ code: 'INFA' }] }],
  provision: {
    type: 'permit',
    period,
    actor: [
      { role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/school-de-wilgen' } },
    ],
    purpose: [{ code: 'CAREMGT' }],
  },
});
const verdictAt = (period: ConsentProvision['period'], at: string) =>
  evaluateConsent(consentFor(period), request, new Date(at));

describe('a provision with a date-only period', () => {
  it('applies from midnight in Amsterdam on its start date in summer time, not from midnight UTC', () => {
    // 00:30 on 1 July in Amsterdam is 22:30 on 30 June in UTC.
    expect(verdictAt({ start: '2026-07-01' }, '2026-06-30T22:30:00Z')).toBe('permit');
    expect(verdictAt({ start: '2026-07-01' }, '2026-06-30T21:30:00Z')).toBeUndefined();
  });

  it('applies until the end of its end date in Amsterdam in summer time, and not a moment later', () => {
    expect(verdictAt({ end: '2026-07-01' }, '2026-07-01T21:30:00Z')).toBe('permit'); // 23:30 CEST
    expect(verdictAt({ end: '2026-07-01' }, '2026-07-01T22:30:00Z')).toBeUndefined(); // 00:30 on 2 July
  });

  it('does the same in winter time (UTC+1)', () => {
    expect(verdictAt({ start: '2026-01-15' }, '2026-01-14T23:30:00Z')).toBe('permit'); // 00:30 CET
    expect(verdictAt({ start: '2026-01-15' }, '2026-01-14T22:30:00Z')).toBeUndefined();
    expect(verdictAt({ end: '2026-01-15' }, '2026-01-15T22:30:00Z')).toBe('permit'); // 23:30 CET
    expect(verdictAt({ end: '2026-01-15' }, '2026-01-15T23:30:00Z')).toBeUndefined();
  });
});
