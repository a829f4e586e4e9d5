// The cjg-referral mapping: fixtures map to their expected Bundles and back, CSV and JSON agree, arbitrary forms
// survive both round trips, and invalid forms are refused with the place of each problem.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { FIXTURES_DIR } from '../paths.js';
import { clean, isoDate, opt, validBsn } from '../../test/native-arbitraries.js';
import { LIFE_DOMAINS, REFERRAL_SOURCES, type NativeReferral } from './cjg-referral.js';
import { NativeInputError, referralFromFhir, referralJsonToFhir } from './referral-format.js';
import { CSV_COLUMNS, referralsFromCsv, referralsToCsv } from './referral-csv.js';
import { checkFhir, loadFhirDefinitions } from './validate.js';
import { accepted } from '../fhir/verdict.js';

const dir = path.join(FIXTURES_DIR, 'referrals');
const names = readdirSync(dir)
  .filter((f) => /^\d+-[\w-]+\.json$/.test(f) && !f.endsWith('.bundle.json'))
  .sort();
const load = (f: string) => readFileSync(path.join(dir, f), 'utf8');

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof NativeInputError) return err.issues;
    throw err;
  }
  throw new Error('expected the input to be refused');
}

describe('cjg-referral fixtures', () => {
  loadFhirDefinitions();
  it('has at least ten forms, each with its CSV and expected Bundle', () => {
    expect(names.length).toBeGreaterThanOrEqual(10);
  });

  it.each(names)('%s maps to its expected Bundle, valid FHIR R4, and back to the same form', (file) => {
    const form = JSON.parse(load(file)) as NativeReferral;
    const bundle = referralJsonToFhir(form);
    expect(bundle).toEqual(JSON.parse(load(file.replace('.json', '.bundle.json'))));
    accepted(checkFhir<Bundle>(bundle, ['Bundle'], { thorough: true }));
    const parents = form.parents?.length ?? 0;
    const types = (bundle.entry ?? []).map((e) => e.resource!.resourceType);
    expect(types.filter((t) => t === 'RelatedPerson')).toHaveLength(parents * form.children.length);
    expect(types.filter((t) => t === 'Patient')).toHaveLength(form.children.length);
    const back = referralFromFhir(bundle);
    expect(back.issues).toEqual([]);
    expect(back.native).toEqual(form);
  });

  it.each(names)('%s reads the same from its CSV as from its JSON', (file) => {
    const form = JSON.parse(load(file)) as NativeReferral;
    const csv = load(file.replace('.json', '.csv'));
    expect(referralsFromCsv(csv)).toEqual([form]);
    expect(referralsToCsv([form])).toBe(csv);
  });

  it('reads all fixtures from one CSV, in order', () => {
    const csvs = names.map((f) => load(f.replace('.json', '.csv')).split('\r\n'));
    const joined = [csvs[0]![0], ...csvs.flatMap((lines) => lines.slice(1).filter(Boolean))].join('\r\n');
    const forms = referralsFromCsv(joined);
    expect(forms.map((f) => f.referralId)).toEqual(names.map((f) => JSON.parse(load(f)).referralId));
  });
});

// Arbitrary forms: texts with quotes, commas, line breaks and non-ASCII, 1–4 children, 0–2 parents, 0–3 agencies.
const text = fc
  .string({
    minLength: 1,
    maxLength: 30,
    unit: fc.constantFrom('a', 'é', ' ', ',', '"', '\n', 'Z', '9', ';'),
  })
  .filter((s) => s.trim() === s && s.trim() !== '');
const date = isoDate('1950-01-01');
const child = fc
  .record({
    bsn: validBsn,
    sex: fc.constantFrom('male', 'female', 'other', 'unknown'),
    familyName: text,
    givenName: opt(text),
    initials: opt(text),
    birthDate: date,
    nationality: opt(text),
    school: opt(text),
    schoolContact: opt(text),
    livingSituation: opt(fc.constantFrom('home', 'away')),
    courtOrder: opt(fc.boolean()),
  })
  .map(clean);
const parent = fc
  .record({
    bsn: validBsn,
    relation: fc.constantFrom('mother', 'father', 'stepmother', 'stepfather', 'other'),
    relationOther: opt(text),
    parentalAuthority: fc.boolean(),
    familyName: text,
    givenName: opt(text),
    birthDate: opt(date),
    street: opt(text),
    postalCode: opt(text),
    city: opt(text),
    phone: opt(text),
    mobile: opt(text),
    occupation: opt(text),
  })
  .map(clean);
const agency = fc
  .record({
    name: text,
    active: opt(fc.boolean()),
    helpType: opt(text),
    contactPerson: opt(text),
    phone: opt(text),
  })
  .map(clean);
const form = fc
  .record({
    referralId: text,
    referralDate: date,
    referrerName: text,
    referrerAgency: text,
    referralSource: opt(fc.constantFrom(...REFERRAL_SOURCES)),
    reason: text,
    coreProblem: opt(text),
    lifeDomains: opt(fc.uniqueArray(fc.constantFrom(...LIFE_DOMAINS), { minLength: 1, maxLength: 4 })),
    remarks: opt(text),
    parents: opt(fc.uniqueArray(parent, { minLength: 1, maxLength: 2, selector: (p) => p.bsn })),
    children: fc.array(child, { minLength: 1, maxLength: 4 }),
    agencies: opt(fc.array(agency, { minLength: 1, maxLength: 3 })),
  })
  .map((f) => clean(f) as NativeReferral);

describe('cjg-referral round trips (property-based)', () => {
  it('JSON → FHIR → JSON returns the form', () => {
    fc.assert(
      fc.property(form, (f) => {
        const { native, issues } = referralFromFhir(referralJsonToFhir(f));
        expect(issues).toEqual([]);
        expect(native).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });

  it('JSON → CSV → JSON returns the forms', () => {
    fc.assert(
      fc.property(fc.array(form, { minLength: 1, maxLength: 3 }), (forms) => {
        expect(referralsFromCsv(referralsToCsv(forms))).toEqual(forms);
      }),
      { numRuns: 200 },
    );
  });
});

describe('invalid referral forms', () => {
  const base = JSON.parse(load(names[0]!)) as NativeReferral;
  const variant = (change: (f: NativeReferral) => void) => {
    const f = structuredClone(base);
    change(f);
    return f;
  };

  it('refuses a BSN with a wrong check digit, naming the field', () => {
    const issues = issuesOf(() =>
      referralJsonToFhir(
        variant(
          (f) =>
            (f.children[1]!.bsn = `${String(f.children[1]!.bsn).slice(0, 8)}${(Number(String(f.children[1]!.bsn)[8]) + 1) % 10}`),
        ),
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        expression: ['children[1].bsn'],
        diagnostics: expect.stringMatching(/11-test/),
      }),
    ]);
  });

  it('refuses a birth date in the future and a date that does not exist', () => {
    const issues = issuesOf(() =>
      referralJsonToFhir(
        variant((f) => {
          f.children[0]!.birthDate = '2099-01-01';
          f.parents![0]!.birthDate = '1990-02-30';
        }),
      ),
    );
    expect(issues.map((i) => [i.expression?.[0], i.diagnostics])).toEqual([
      ['parents[0].birthDate', 'parents[0].birthDate: 1990-02-30 is not a date'],
      ['children[0].birthDate', 'children[0].birthDate: 2099-01-01 lies in the future'],
    ]);
  });

  it('refuses an unknown life-domain code, a missing field and a field the form does not have', () => {
    const issues = issuesOf(() =>
      referralJsonToFhir(
        variant((f) => {
          f.lifeDomains = ['finances', 'astrology'];
          delete f.children[0]!.sex;
          (f as Record<string, unknown>).shoeSize = 42;
        }),
      ),
    );
    const at = issues.map((i) => i.expression?.[0]);
    expect(at).toEqual(expect.arrayContaining(['lifeDomains[1]', 'children[0].sex', 'shoeSize']));
    expect(issues.find((i) => i.expression?.[0] === 'lifeDomains[1]')?.diagnostics).toMatch(
      /must be one of parenting/,
    );
  });

  it('names a missing column and every row that no longer fits the header, in one answer', () => {
    const csv = load(names[0]!.replace('.json', '.csv'));
    const [header, ...rest] = csv.split('\r\n');
    const cols = header!.split(',');
    const drop = cols.indexOf('child.birthDate');
    const cut = [cols.filter((_, i) => i !== drop).join(','), ...rest].join('\r\n');
    const issues = issuesOf(() => referralsFromCsv(cut));
    expect(issues[0]).toEqual(
      expect.objectContaining({
        expression: ['row 1'],
        diagnostics: expect.stringMatching(/lacks the column\(s\) child.birthDate/),
      }),
    );
    expect(issues.slice(1).map((i) => i.expression![0])).toEqual(
      rest.filter(Boolean).map((_, i) => `row ${i + 2}`),
    );
  });

  it('reads a 10,000-row CSV whole, and refuses all of it for one bad row, naming the row and column', () => {
    const forms = Array.from({ length: 2000 }, (_, i) => ({ ...base, referralId: `BULK-${i}` }));
    const csv = referralsToCsv(forms);
    const lines = csv.split('\r\n').filter(Boolean);
    expect(lines.length - 1).toBeGreaterThanOrEqual(10_000);
    const started = performance.now();
    expect(referralsFromCsv(csv)).toHaveLength(2000);
    expect(performance.now() - started).toBeLessThan(20_000);
    // Row 9,002 of the file (a child row) gets a BSN that fails the 11-test.
    const target = lines.findIndex((l, i) => i > 9000 && l.startsWith('child,'));
    const cells = lines[target]!.split(',');
    const bsnCol = CSV_COLUMNS.indexOf('child.bsn');
    cells[bsnCol] = '999999999';
    lines[target] = cells.join(',');
    const issues = issuesOf(() => referralsFromCsv(lines.join('\r\n')));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.expression).toEqual([`row ${target + 1}.child.bsn`]);
    expect(issues[0]!.diagnostics).toMatch(/11-test/);
  });

  it('refuses rows that do not fit: too few fields, an unknown record kind, a field of another kind', () => {
    const csv = load(names[0]!.replace('.json', '.csv')).split('\r\n');
    const broken = [...csv];
    broken[2] = broken[2]!.split(',').slice(0, 5).join(',');
    broken[3] = broken[3]!.replace(/^parent,/, 'cousin,');
    const issues = issuesOf(() => referralsFromCsv(broken.join('\r\n')));
    expect(issues.map((i) => i.expression?.[0])).toEqual(['row 3', 'row 4.record']);
  });
});

describe('what the form cannot hold', () => {
  it('reports resources the form has no place for, and keeps the rest', () => {
    const bundle = referralJsonToFhir(JSON.parse(load(names[0]!)) as NativeReferral) as Bundle;
    bundle.entry!.push({
      fullUrl: 'urn:uuid:extra',
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } },
    });
    const { native, issues } = referralFromFhir(bundle);
    expect(native.referralId).toBe('CMPG-2026-001');
    expect(issues).toEqual([
      expect.objectContaining({ severity: 'warning', expression: ['Bundle.entry(urn:uuid:extra)'] }),
    ]);
  });
});
