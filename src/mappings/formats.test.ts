// youthcare-registration and municipal-case: fixtures map to their expected Bundles (valid against the profiles)
// and back, arbitrary records survive the round trip, and invalid records are refused with the place of each problem.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { FIXTURES_DIR } from '../paths.js';
import { clean, isoDate, opt, validBsn } from '../../test/native-arbitraries.js';
import { LIFE_DOMAINS } from './cjg-referral.js';
import { FORMATS } from './formats.js';
import { NativeInputError } from './referral-format.js';
import { checkFhir } from './validate.js';
import { accepted } from '../fhir/verdict.js';

const FOLDERS = {
  'youthcare-registration': 'youthcare-registrations',
  'municipal-case': 'municipal-cases',
} as const;
const fixtures = (format: keyof typeof FOLDERS) => {
  const dir = path.join(FIXTURES_DIR, FOLDERS[format]);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.bundle.json'))
    .sort()
    .map((f) => ({
      file: f,
      record: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>,
      expected: JSON.parse(
        readFileSync(path.join(dir, f.replace('.json', '.bundle.json')), 'utf8'),
      ) as Bundle,
    }));
};

const refused = (format: string, record: unknown) => {
  try {
    FORMATS[format]!.jsonToFhir(record);
  } catch (err) {
    if (err instanceof NativeInputError) return err.issues.map((i) => [i.expression?.[0], i.diagnostics]);
    throw err;
  }
  throw new Error('expected the record to be refused');
};

describe.each(Object.keys(FOLDERS) as (keyof typeof FOLDERS)[])('%s', (format) => {
  const all = fixtures(format);
  it('has fixtures', () => expect(all.length).toBeGreaterThanOrEqual(3));
  it.each(all.map((f) => [f.file, f] as const))(
    '%s maps to its Bundle, valid against the profiles, and back',
    (_, f) => {
      const bundle = FORMATS[format]!.jsonToFhir(f.record);
      expect(bundle).toEqual(f.expected);
      accepted(checkFhir(bundle, ['Bundle'], { thorough: true }));
      const back = FORMATS[format]!.fromFhir(bundle);
      expect(back.issues).toEqual([]);
      expect(back.native).toEqual(f.record);
    },
  );
});

const text = fc
  .string({ minLength: 1, maxLength: 20, unit: fc.constantFrom('a', 'é', ' ', '"', 'Z', '9', '-') })
  .filter((s) => s.trim() === s && s !== '');
const date = isoDate('1990-01-01');
const bsn = validBsn;
const digits = (n: number) => fc.stringMatching(new RegExp(`^\\d{${n}}$`));

const registration = fc
  .record({
    registrationId: text,
    provider: text,
    providerAgb: opt(digits(8)),
    clientBsn: bsn,
    clientFamilyName: text,
    clientGivenName: opt(text),
    clientBirthDate: date,
    clientSex: fc.constantFrom('male', 'female', 'other', 'unknown'),
    trajectoryType: fc.constantFrom('waakvlam', 'complex-intensive', 'consultation'),
    coordinationLevel: fc.constantFrom('0', '1', '2', '3', '4', '5'),
    framework: fc.constantFrom('voluntary', 'drang', 'dwang'),
    startDate: date,
    endDate: opt(date),
    closureReason: opt(fc.constantFrom('goals-achieved', 'referred', 'moved')),
    referredTo: opt(text),
    planTitle: text,
    planStatus: fc.constantFrom('draft', 'active', 'completed'),
    goals: opt(
      fc.array(
        fc
          .record({
            lifeDomain: fc.constantFrom(...LIFE_DOMAINS),
            description: text,
            status: fc.constantFrom('proposed', 'active', 'completed', 'cancelled'),
            dueDate: opt(date),
          })
          .map(clean),
        { minLength: 1, maxLength: 4 },
      ),
    ),
  })
  .map(clean);

const municipalCase = fc
  .record({
    Beschikkingnummer: text,
    Gemeentecode: digits(4),
    Gemeentenaam: opt(text),
    Wet: fc.constantFrom('jeugdwet', 'wmo'),
    Afgiftedatum: date,
    ClientBsn: bsn,
    ClientGeboortedatum: date,
    ClientGeslacht: fc.constantFrom('0', '1', '2'),
    ClientAchternaam: text,
    ClientVoornamen: opt(text),
    Toewijzingen: fc.array(
      fc
        .record({
          ToewijzingNummer: text,
          ProductCategorie: digits(2),
          ProductCode: opt(fc.stringMatching(/^[0-9A-Z]{5}$/)),
          Ingangsdatum: date,
          Einddatum: opt(date),
          Volume: opt(fc.integer({ min: 0, max: 10_000 }).map(String)),
          Eenheid: opt(fc.constantFrom('01', '04', '14', '16', '82', '83')),
          Frequentie: opt(fc.constantFrom('1', '2', '4', '6')),
          Aanbieder: opt(digits(8)),
          Status: fc.constantFrom('toegewezen', 'gewijzigd', 'ingetrokken', 'beeindigd'),
        })
        .map(clean),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(clean);

describe('round trips (property-based)', () => {
  it.each([
    ['youthcare-registration', registration],
    ['municipal-case', municipalCase],
  ] as const)('%s: native → FHIR → native returns the record', (format, arb) => {
    fc.assert(
      fc.property(arb, (record) => {
        const { native, issues } = FORMATS[format]!.fromFhir(FORMATS[format]!.jsonToFhir(record));
        expect(issues).toEqual([]);
        expect(native).toEqual(record);
      }),
      { numRuns: 300 },
    );
  });
});

describe('invalid records', () => {
  const reg = fixtures('youthcare-registration')[0]!.record;
  const mun = fixtures('municipal-case')[0]!.record;

  it('refuses an unknown coordination level, a wrong BSN and an unknown life domain', () => {
    expect(
      refused('youthcare-registration', {
        ...reg,
        coordinationLevel: '7',
        goals: [{ lifeDomain: 'astrology', description: 'x', status: 'active' }],
      }).map(([at]) => at),
    ).toEqual(['coordinationLevel', 'goals[0].lifeDomain']);
    expect(refused('youthcare-registration', { ...reg, clientBsn: '999999999' })).toEqual([
      ['clientBsn', 'clientBsn: 999999999 is not a valid BSN (11-test)'],
    ]);
  });

  it('refuses a decision without assignments, a malformed product category, a future issue date', () => {
    expect(refused('municipal-case', { ...mun, Toewijzingen: [] }).map(([at]) => at)).toEqual([
      'Toewijzingen',
    ]);
    const t = (mun.Toewijzingen as Record<string, unknown>[])[0]!;
    expect(
      refused('municipal-case', { ...mun, Toewijzingen: [{ ...t, ProductCategorie: 'AB' }] }).map(
        ([at]) => at,
      ),
    ).toEqual(['Toewijzingen[0].ProductCategorie']);
    expect(refused('municipal-case', { ...mun, Afgiftedatum: '2999-01-01' })).toEqual([
      ['Afgiftedatum', 'Afgiftedatum: 2999-01-01 lies in the future'],
    ]);
  });
});
