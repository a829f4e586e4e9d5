import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { checkFhir } from './validate.js';

const patient = (birthDate: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910140' }],
  birthDate,
});

/** The diagnostics of the birth date's errors. */
function birthDateErrors(birthDate: string, at: Date): string[] {
  return checkFhir(patient(birthDate), ['Patient'], { at })
    .issues.filter((i) => i.severity === 'error' && i.expression?.includes('Patient.birthDate'))
    .map((i) => i.diagnostics ?? '');
}

describe('the birth date is checked against the Dutch calendar date', () => {
  it('accepts a baby born today just after midnight in summer (00:30 on 2 July is 22:30 UTC on 1 July)', () => {
    const at = new Date('2026-07-01T22:30:00Z');
    expect(birthDateErrors('2026-07-02', at)).toEqual([]);
    expect(birthDateErrors('2026-07-03', at)).toEqual(['birthDate lies in the future']);
  });

  it('accepts a baby born today just after midnight in winter (00:30 on 15 January is 23:30 UTC on 14 January)', () => {
    const at = new Date('2026-01-14T23:30:00Z');
    expect(birthDateErrors('2026-01-15', at)).toEqual([]);
    expect(birthDateErrors('2026-01-16', at)).toEqual(['birthDate lies in the future']);
  });

  it('refuses tomorrow late in the evening, when UTC is still on the same date', () => {
    expect(birthDateErrors('2026-07-02', new Date('2026-07-01T21:30:00Z'))).toEqual([
      'birthDate lies in the future',
    ]);
  });

  it('compares a partial birth date (YYYY, YYYY-MM) as text with the Dutch date, as before', () => {
    const at = new Date('2026-12-31T23:30:00Z'); // 00:30 on 1 January 2027
    expect(birthDateErrors('2027', at)).toEqual([]);
    expect(birthDateErrors('2027-01', at)).toEqual([]);
    expect(birthDateErrors('2027-02', at)).toEqual(['birthDate lies in the future']);
  });
});
