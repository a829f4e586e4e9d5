// The pseudonymisation allow-list: no free text survives, coded data and coarsened dates do, references agree.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { pseudonym, pseudonymiseBundle } from './pseudonymise.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

function payload(): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: 'urn:uuid:noah',
        resource: {
          resourceType: 'Patient',
          id: 'noah-jansen',
          identifier: [{ system: BSN, value: '999910036' }],
          gender: 'male',
          birthDate: '2017-03-14',
          extension: [],
        },
      },
      {
        fullUrl: 'http://cjg.example/fhir/CarePlan/plan-bakker',
        resource: {
          resourceType: 'CarePlan',
          id: 'plan-bakker',
          status: 'active',
          intent: 'plan',
          subject: { reference: 'urn:uuid:noah' },
          author: { reference: 'Practitioner/jan-de-boer' },
          period: { start: '2025-09-14T10:00:00+02:00' },
          activity: [{ detail: { status: 'in-progress' } }],
        },
      },
      {
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] },
          subject: { reference: 'Patient/noah-jansen' },
          valueQuantity: { value: 131, system: 'http://unitsofmeasure.org', code: 'cm' },
          effectiveDateTime: '2025-10-01',
        },
      },
    ],
  };
}

type Place = (b: Bundle, s: string) => void;
const at = (b: Bundle, i: number) => b.entry![i]!.resource as unknown as Record<string, unknown>;
const FREE_TEXT: Place[] = [
  (b, s) => (at(b, 1).title = s),
  (b, s) => (at(b, 1).description = s),
  (b, s) => (at(b, 1).note = [{ text: s, authorString: s }]),
  (b, s) => (at(b, 1).text = { status: 'generated', div: `<div>${s}</div>` }),
  (b, s) => (at(b, 1).identifier = [{ system: 'urn:x', value: s }]),
  (b, s) => (at(b, 1).category = [{ coding: [{ system: 'urn:c', code: 'c', display: s }], text: s }]),
  (b, s) => ((at(b, 1).subject as Record<string, unknown>).display = s),
  (b, s) =>
    (at(b, 1).activity = [{ detail: { status: 'in-progress', description: s }, progress: [{ text: s }] }]),
  (b, s) => (at(b, 0).name = [{ family: s, given: [s], text: s }]),
  (b, s) => (at(b, 0).address = [{ line: [s], city: s, postalCode: s }]),
  (b, s) => (at(b, 0).telecom = [{ system: 'phone', value: s }]),
  (b, s) => (at(b, 0).photo = [{ contentType: 'image/png', title: s, url: `http://x/${s}` }]),
  (b, s) => (at(b, 0).contact = [{ name: { text: s } }]),
  (b, s) =>
    (at(b, 0).extension as unknown[]).push({
      url: 'https://ketenpoort.nl/fhir/StructureDefinition/initials',
      valueString: s,
    }),
  (b, s) => (at(b, 0).extension as unknown[]).push({ url: `urn:unknown:${s}`, valueCode: 'x' }),
  (b, s) => (at(b, 0)._birthDate = { extension: [{ url: 'urn:x', valueString: s }] }),
  (b, s) => (at(b, 0)[`unknownElement`] = s),
  (b, s) => (at(b, 2).valueQuantity = { value: 1, unit: s, system: 'http://unitsofmeasure.org', code: 'cm' }),
  (b, s) => (at(b, 2).note = [{ text: s }]),
  (b, s) => (at(b, 2).component = [{ code: { text: s }, valueString: s }]),
  (b, s) => (at(b, 2).contained = [{ resourceType: 'Practitioner', id: 'p1', name: [{ text: s }] }]),
];

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

describe('pseudonymisation as an allow-list', () => {
  const baseline = stringsIn(pseudonymiseBundle(payload(), 'k'));

  it('keeps no text placed in any free-text element (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: FREE_TEXT.length - 1 }),
            fc.string({ minLength: 4, maxLength: 30 }),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        (placements) => {
          fc.pre(placements.every(([, s]) => !baseline.some((b) => b.includes(s))));
          const bundle = payload();
          for (const [i, s] of placements) FREE_TEXT[i]!(bundle, s);
          const out = stringsIn(pseudonymiseBundle(bundle, 'k'));
          for (const [, s] of placements) expect(out.filter((o) => o.includes(s))).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('replaces the BSN by its pseudonym, keeps codes, and coarsens dates as the rules say', () => {
    const out = pseudonymiseBundle(payload(), 'k');
    const [patient, plan, observation] = out.entry!.map(
      (e) => e.resource as unknown as Record<string, unknown>,
    );
    expect(patient).toMatchObject({
      identifier: [
        { system: 'https://ketenpoort.nl/fhir/NamingSystem/pseudonym', value: pseudonym('999910036', 'k') },
      ],
      gender: 'male',
      birthDate: '2017',
    });
    expect(plan).toMatchObject({ status: 'active', intent: 'plan', period: { start: '2025-09' } });
    expect(observation).toMatchObject({
      valueQuantity: { value: 131, system: 'http://unitsofmeasure.org', code: 'cm' },
      effectiveDateTime: '2025-10',
    });
  });

  it('gives a resource one pseudonym that references by fullUrl and by Type/id both point to', () => {
    const out = pseudonymiseBundle(payload(), 'k');
    const [patient, plan, observation] = out.entry!;
    expect(patient!.fullUrl).toBe(`urn:uuid:${patient!.resource!.id}`);
    expect((plan!.resource as unknown as { subject: { reference: string } }).subject.reference).toBe(
      patient!.fullUrl,
    );
    expect((observation!.resource as unknown as { subject: { reference: string } }).subject.reference).toBe(
      patient!.fullUrl,
    );
    expect(JSON.stringify(out)).not.toMatch(/noah|bakker|jan-de-boer|cjg\.example/);
    // Another key, other pseudonyms: they are keyed, not guessable.
    expect(pseudonymiseBundle(payload(), 'other').entry![0]!.fullUrl).not.toBe(patient!.fullUrl);
  });
});

describe('no BSN hidden in a code or a number', () => {
  const KEY = 'test-key';
  // A BSN of a person the exchange is about that the payload itself does not name.
  const SUBJECT = '999981481';
  const goal = (coding: { system: string; code: string }[], extra: Record<string, unknown> = {}) =>
    ({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'Goal',
            id: 'g',
            lifecycleStatus: 'active',
            description: { coding },
            subject: { reference: 'Patient/p' },
          },
        },
        {
          resource: {
            resourceType: 'Observation',
            id: 'o',
            status: 'final',
            code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] },
            ...extra,
          },
        },
      ],
    }) as Bundle;
  const codes = (b: Bundle) => JSON.stringify(b);

  it('drops a code that carries the subject’s BSN inside it, whatever its shape', () => {
    const out = pseudonymiseBundle(
      goal([
        { system: 'http://snomed.info/sct', code: `4${SUBJECT}` },
        { system: 'http://snomed.info/sct', code: `${SUBJECT}0` },
        { system: 'http://loinc.org', code: `${SUBJECT.slice(0, 8)}-${SUBJECT[8]}` },
        { system: 'http://snomed.info/sct', code: '386661006' },
      ]),
      KEY,
      undefined,
      [SUBJECT],
    );
    expect(codes(out)).not.toContain(SUBJECT.slice(0, 8));
    expect(codes(out)).toContain('386661006');
  });

  it('drops SNOMED CT and LOINC codes whose check digit is wrong (a made-up number is no code)', () => {
    const out = pseudonymiseBundle(
      goal([
        { system: 'http://snomed.info/sct', code: '386661007' },
        { system: 'http://loinc.org', code: '8302-3' },
        { system: 'http://snomed.info/sct', code: '22298006' },
      ]),
      KEY,
    );
    expect(codes(out)).not.toContain('386661007');
    expect(codes(out)).not.toContain('8302-3');
    expect(codes(out)).toContain('22298006');
    expect(codes(out)).toContain('8302-2');
  });

  it('drops a number that carries a BSN: the subject’s, one named in the Bundle, or nine digits passing the 11-test', () => {
    const named = '999910036';
    const bundle = goal([{ system: 'http://snomed.info/sct', code: '22298006' }], {
      valueInteger: Number(SUBJECT),
      component: [
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] },
          valueQuantity: { value: 123456782 },
        },
        { code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] }, valueQuantity: { value: 140 } },
      ],
    });
    bundle.entry!.push({
      resource: { resourceType: 'Patient', id: 'p', identifier: [{ system: BSN, value: named }] },
    });
    (bundle.entry![0]!.resource as { description: { coding: unknown[] } }).description.coding.push({
      system: 'http://snomed.info/sct',
      code: `1${named}`,
    });
    const out = codes(pseudonymiseBundle(bundle, KEY, undefined, [SUBJECT]));
    expect(out).not.toContain(SUBJECT);
    expect(out).not.toContain('123456782');
    expect(out).not.toContain(named);
    expect(out).toContain('140');
  });
});
