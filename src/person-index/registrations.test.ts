// Merging registrations: one person from several organisations' records, and the facts they disagree on.
import { describe, expect, it } from 'vitest';
import type { Consent, Group, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { BSN_SYSTEM, PARENTAL_AUTHORITY_URL } from '../consent/constants.js';
import { alignConsent, familyConflict, mergeParents, mergePerson } from './registrations.js';

const patient = (id: string, birthDate?: string): Patient => ({
  resourceType: 'Patient',
  id,
  identifier: [{ system: BSN_SYSTEM, value: '999910036' }],
  birthDate,
});
const parent = (id: string, child: string, bsn: string | undefined, gezag?: boolean): RelatedPerson => ({
  resourceType: 'RelatedPerson',
  id,
  patient: { reference: child },
  identifier: bsn ? [{ system: BSN_SYSTEM, value: bsn }] : undefined,
  extension: gezag === undefined ? undefined : [{ url: PARENTAL_AUTHORITY_URL, valueBoolean: gezag }],
});

describe('mergePerson', () => {
  it('lets the earliest registration stand for the person and maps every registration onto it', () => {
    const { merged, conflicts } = mergePerson(
      [patient('a', '2017-03-14'), patient('b', '2017-03-14')],
      '999910036',
    );
    expect(conflicts).toEqual([]);
    expect(merged?.patient.id).toBe('a');
    expect([...merged!.aliases]).toEqual([
      ['Patient/a', 'Patient/a'],
      ['Patient/b', 'Patient/a'],
    ]);
  });

  it('fills a missing birth date from another registration, which is no dispute', () => {
    const { merged, conflicts } = mergePerson([patient('a'), patient('b', '2017-03-14')], '999910036');
    expect(conflicts).toEqual([]);
    expect(merged?.patient.birthDate).toBe('2017-03-14');
  });

  it('reports two different birth dates as a dispute naming each registration', () => {
    const { conflicts } = mergePerson([patient('a', '2017-03-14'), patient('b', '2008-01-01')], '999910036');
    expect(conflicts).toEqual([
      {
        fact: 'birthDate',
        about: '999910036',
        values: ['Patient/a: 2017-03-14', 'Patient/b: 2008-01-01'],
      },
    ]);
  });

  it('knows nobody without registrations', () => {
    expect(mergePerson([], '999910036')).toEqual({ conflicts: [] });
  });
});

describe('mergeParents', () => {
  const person = mergePerson([patient('a', '2017-03-14'), patient('b', '2017-03-14')], '999910036').merged!;

  it('keeps one parent per BSN across registrations, pointing at the merged person', () => {
    const result = mergeParents(
      [
        parent('m1', 'Patient/a', '999910012', true),
        parent('m2', 'Patient/b', '999910012', true),
        parent('f2', 'Patient/b', '999910024', true),
        parent('x', 'Patient/other', '999910060', true),
      ],
      person,
    );
    expect(result.conflicts).toEqual([]);
    expect(result.parents.map((p) => [p.id, p.patient.reference])).toEqual([
      ['m1', 'Patient/a'],
      ['f2', 'Patient/a'],
    ]);
    expect(result.aliases.get('RelatedPerson/m2')).toBe('RelatedPerson/m1');
  });

  it('reports a parent with parental authority in one registration and without in another as a dispute', () => {
    const result = mergeParents(
      [parent('m1', 'Patient/a', '999910012', true), parent('m2', 'Patient/b', '999910012', false)],
      person,
    );
    expect(result.conflicts.map((c) => [c.fact, c.about])).toEqual([['parentalAuthority', '999910012']]);
  });

  it('keeps a parent without a BSN as registered', () => {
    const result = mergeParents([parent('g', 'Patient/b', undefined, true)], person);
    expect(result.parents.map((p) => p.patient.reference)).toEqual(['Patient/a']);
  });
});

describe('alignConsent and familyConflict', () => {
  it("names a consent's patient and performers by their merged references", () => {
    const consent: Consent = {
      resourceType: 'Consent',
      status: 'active',
      scope: {},
      category: [],
      patient: { reference: 'Patient/b' },
      performer: [{ reference: 'RelatedPerson/m2' }, { reference: 'Organization/x' }],
    };
    const aligned = alignConsent(
      consent,
      new Map([
        ['Patient/b', 'Patient/a'],
        ['RelatedPerson/m2', 'RelatedPerson/m1'],
      ]),
    );
    expect(aligned.patient?.reference).toBe('Patient/a');
    expect(aligned.performer?.map((p) => p.reference)).toEqual(['RelatedPerson/m1', 'Organization/x']);
  });

  it('reports families registered with different members as a dispute', () => {
    const group = (id: string, members: string[]): Group => ({
      resourceType: 'Group',
      id,
      type: 'person',
      actual: true,
      member: members.map((m) => ({ entity: { reference: m } })),
    });
    const bsnOf = (g: Group) => (g.member ?? []).map((m) => m.entity.reference!.slice(8));
    expect(
      familyConflict(
        [group('g1', ['Patient/1', 'Patient/2']), group('g2', ['Patient/2', 'Patient/1'])],
        bsnOf,
        'f',
      ),
    ).toEqual([]);
    expect(
      familyConflict([group('g1', ['Patient/1']), group('g2', ['Patient/1', 'Patient/3'])], bsnOf, 'f')[0]
        ?.fact,
    ).toBe('family');
  });
});
