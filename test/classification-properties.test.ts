// Property: for random Bundles built from the corpus' resources and random consents, nothing a deny covers is ever
// delivered, and content that could be anything goes only where all data is named. Checked against an oracle written
// here, apart from the classification table: it reads every coding anywhere in a resource by the code systems' own
// structure (ICPC-2 chapters, ICD-10 blocks, ATC groups) and a short hand list of the SNOMED and LOINC codes it knows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  Bundle,
  BundleEntry,
  Coding,
  Consent,
  ConsentProvision,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import { loadCatalogue } from '../src/consent/catalogue.js';
import { classify } from '../src/consent/classify.js';
import { BSN_SYSTEM } from '../src/consent/constants.js';
import { decide, DEFAULT_OPTIONS } from '../src/consent/decide.js';
import type { DecisionRequest } from '../src/consent/types.js';
import { ALL_CATEGORIES, loadCorpus } from './agency-corpus.js';

const catalogue = loadCatalogue();
const at = new Date('2026-11-15T10:00:00Z');
const SUBJECT_URL = 'urn:uuid:00000000-0000-4000-8000-00000000cafe';
const BSN = '999950174';
const DATA_CATEGORY = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

// ---- The oracle -------------------------------------------------------------------------------------------------

type Label = 'PSY' | 'SUD' | 'SEX' | 'HIV' | 'STD' | 'SDV';
interface Reading {
  labels: Set<Label>;
  /** The oracle cannot rule anything out: unread content, a code it does not know, a reference instead of a code. */
  anything: boolean;
}

const between = (code: string, from: string, to: string) => {
  const head = code.slice(0, from.length);
  return head >= from && head <= to;
};
const SNOMED: Record<string, Label[]> = {
  '197480006': ['PSY'], // anxiety disorder
  '56882008': ['PSY'], // anorexia nervosa
  '394587001': ['PSY'], // psychiatry
  '394588006': ['PSY'], // child and adolescent psychiatry
  '412732008': ['SDV'], // history of domestic violence
  '90774003': ['SDV'], // victim of physical assault
  '394814009': [], // general practice
};
const LOINC: Record<string, Label[]> = {
  '44261-6': ['PSY'], // PHQ-9 total
  '11331-6': ['SUD'], // history of alcohol use
  '8302-2': [],
  '29463-7': [],
  '39156-5': [],
  '85354-9': [],
  '8480-6': [],
  '8462-4': [],
};
/** LOINC document kinds that say nothing of what the document holds. */
const SILENT_DOCUMENTS = new Set(['11488-4', '18842-5']);
const LIFE: Record<string, Label[]> = {
  'mental-health': ['PSY'],
  addiction: ['SUD'],
  'domestic-violence': ['SDV'],
};
const PLAIN_SYSTEMS = [
  'http://terminology.hl7.org/CodeSystem/condition-clinical',
  'http://terminology.hl7.org/CodeSystem/condition-category',
  'http://terminology.hl7.org/CodeSystem/observation-category',
  'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
  'http://unitsofmeasure.org',
  ACT_CODE,
];

/** What one coding says: its labels, or undefined when the oracle does not know it. */
function codingLabels(c: Coding): Label[] | undefined {
  const code = c.code ?? '';
  switch (c.system) {
    case 'http://hl7.org/fhir/sid/icpc-2':
    case 'http://hl7.org/fhir/sid/icpc-1-nl': {
      const out: Label[] = [];
      if (code.startsWith('P')) out.push('PSY');
      if (between(code, 'P15', 'P19')) out.push('SUD');
      if ('WXY'.includes(code[0] ?? '-')) out.push('SEX');
      if (code.startsWith('B90')) out.push('HIV', 'SEX');
      if (code.startsWith('Z25')) out.push('SDV');
      return out;
    }
    case 'http://hl7.org/fhir/sid/icd-10': {
      const out: Label[] = [];
      if (code.startsWith('F')) out.push('PSY');
      if (between(code, 'F10', 'F19')) out.push('SUD');
      if (between(code, 'A50', 'A64')) out.push('SEX', 'STD');
      if (between(code, 'B20', 'B24')) out.push('SEX', 'HIV');
      if (code.startsWith('O')) out.push('SEX');
      if (code.startsWith('T74') || between(code, 'X85', 'Y09')) out.push('SDV');
      return out;
    }
    case 'http://www.whocc.no/atc': {
      const out: Label[] = [];
      if (['N05', 'N06A', 'N06B'].some((p) => code.startsWith(p))) out.push('PSY');
      if (code.startsWith('N07B')) out.push('SUD');
      if (code.startsWith('G03A')) out.push('SEX');
      if (code.startsWith('J05A')) out.push('SEX', 'HIV');
      return out;
    }
    case 'http://snomed.info/sct':
      return SNOMED[code];
    case 'http://loinc.org':
      return SILENT_DOCUMENTS.has(code) ? [] : LOINC[code];
    case 'https://ketenpoort.nl/fhir/CodeSystem/life-domain':
      return LIFE[code] ?? [];
    default:
      return c.system && PLAIN_SYSTEMS.includes(c.system) ? [] : undefined;
  }
}

function oracle(resource: Resource): Reading {
  const labels = new Set<Label>();
  let anything = false;
  let informative = false;
  const visit = (value: unknown, key: string): void => {
    if (Array.isArray(value)) return value.forEach((v) => visit(v, key));
    if (!value || typeof value !== 'object') return;
    const o = value as Record<string, unknown>;
    if (key === 'security' || key === 'securityLabel') {
      const codes = Array.isArray(o.coding) ? (o.coding as Coding[]) : [o as Coding];
      for (const c of codes) {
        if (c.code === 'ETH') labels.add('SUD');
        else if (['PSY', 'SUD', 'SEX', 'HIV', 'STD', 'SDV'].includes(c.code ?? ''))
          labels.add(c.code as Label);
      }
      return;
    }
    if (
      typeof o.system === 'string' &&
      typeof o.code === 'string' &&
      key !== 'identifier' &&
      key !== 'telecom'
    ) {
      const found = codingLabels(o as Coding);
      if (found === undefined) anything = true;
      else {
        found.forEach((l) => labels.add(l));
        if (!(o.system as string).includes('terminology.hl7.org') && !SILENT_DOCUMENTS.has(o.code as string))
          informative = true;
      }
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'identifier' && k !== 'telecom') visit(v, k);
  };
  visit(resource, '');
  const r = resource as unknown as Record<string, unknown>;
  // Content the oracle never reads: attachments, free-text messages, a medicine given by reference only.
  if (resource.resourceType === 'DocumentReference' && !informative) anything = true;
  if (resource.resourceType === 'Communication' && r.payload) anything = true;
  if (resource.resourceType === 'MedicationStatement' && !r.medicationCodeableConcept) anything = true;
  return { labels, anything };
}

// ---- Random bundles and consents --------------------------------------------------------------------------------

/** Every non-Patient resource of the corpus, made about one subject. */
const POOL: Resource[] = loadCorpus().flatMap((c) => {
  const patientUrls = c.bundle
    .entry!.filter((e) => e.resource!.resourceType === 'Patient')
    .map((e) => e.fullUrl!);
  return c.bundle
    .entry!.filter((e) => e.resource!.resourceType !== 'Patient')
    .map((e) => {
      let text = JSON.stringify(e.resource);
      for (const url of patientUrls) text = text.split(url).join(SUBJECT_URL);
      return JSON.parse(text) as Resource;
    });
});

const subject: Patient = {
  resourceType: 'Patient',
  id: 'p1',
  identifier: [{ system: BSN_SYSTEM, value: BSN }],
  birthDate: '1990-05-05',
};

const SENSITIVE = ['mental-health', 'addiction', 'sexual-health', 'domestic-violence', 'justice', 'health'];
const CATEGORY_LABELS: Record<string, Label[]> = {
  'mental-health': ['PSY'],
  addiction: ['SUD'],
  'sexual-health': ['SEX', 'HIV', 'STD'],
  'domestic-violence': ['SDV'],
};
type Deny = { label: Label | 'ETH' } | { category: string };

const consentArb = fc.record({
  named: fc.oneof(
    fc.constant(ALL_CATEGORIES),
    fc.constant([] as string[]),
    fc.subarray(ALL_CATEGORIES, { minLength: 1 }),
  ),
  denies: fc.array(
    fc.oneof(
      fc
        .constantFrom<Label | 'ETH'>('PSY', 'ETH', 'SUD', 'SEX', 'HIV', 'STD', 'SDV')
        .map((label): Deny => ({ label })),
      fc.constantFrom(...Object.keys(CATEGORY_LABELS)).map((category): Deny => ({ category })),
    ),
    { maxLength: 2 },
  ),
});

function consentOf(named: string[], denies: Deny[]): Consent {
  const provision: ConsentProvision = {
    type: 'permit',
    actor: [{ role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/cjg-venlo' } }],
    purpose: [{ code: 'CAREMGT' }],
    ...(named.length ? { code: [{ coding: named.map((code) => ({ system: DATA_CATEGORY, code })) }] } : {}),
    ...(denies.length
      ? {
          provision: denies.map((d) =>
            'label' in d
              ? { type: 'deny' as const, securityLabel: [{ system: ACT_CODE, code: d.label }] }
              : { type: 'deny' as const, code: [{ coding: [{ system: DATA_CATEGORY, code: d.category }] }] },
          ),
        }
      : {}),
  };
  return {
    resourceType: 'Consent',
    id: 'c1',
    status: 'active',
    scope: { coding: [{ code: 'patient-privacy' }] },
    category: [{ coding: [{ code: '59284-0' }] }],
    patient: { reference: 'Patient/p1' },
    performer: [{ reference: 'Patient/p1' }],
    dateTime: '2026-01-01T10:00:00Z',
    provision,
  };
}

const request = (payload: Bundle): DecisionRequest => ({
  requesterOrg: 'Organization/huisartsen-de-linde',
  requesterRole: 'gp',
  recipientOrg: 'Organization/cjg-venlo',
  recipientRole: 'cjg',
  subjectBsn: BSN,
  subjectKind: 'person',
  purpose: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
  payload,
});

describe('classification against an independent oracle (property)', () => {
  it('classifies every corpus resource at least as sensitive as the oracle reads it', () => {
    const readings = POOL.map(oracle);
    // The oracle finds something to protect in the corpus for every label, and content it cannot read.
    expect(readings.some((r) => r.anything)).toBe(true);
    for (const l of ['PSY', 'SUD', 'SEX', 'HIV', 'SDV'] as Label[])
      expect(
        readings.some((r) => r.labels.has(l)),
        l,
      ).toBe(true);
    POOL.forEach((resource, i) => {
      const cls = classify(resource, catalogue);
      const what = `${resource.resourceType} ${JSON.stringify(resource).slice(0, 160)}`;
      if (readings[i]!.anything) expect(cls.unknown, what).toBe(true);
      const codes = new Set(cls.labels.map((l) => (l.code === 'ETH' ? 'SUD' : l.code)));
      if (!cls.unknown) for (const l of readings[i]!.labels) expect(codes.has(l), `${what}: ${l}`).toBe(true);
    });
  });

  it('never delivers what a deny covers, nor content that could be anything unless all data is named and nothing denied', () => {
    fc.assert(
      fc.property(
        fc.subarray(
          POOL.map((_, i) => i),
          { minLength: 1, maxLength: 8 },
        ),
        consentArb,
        (picked, { named, denies }) => {
          const entries: BundleEntry[] = [
            { fullUrl: SUBJECT_URL, resource: { ...subject, id: undefined } },
            ...picked.map((i) => ({
              fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
              resource: structuredClone(POOL[i]!),
            })),
          ];
          const payload: Bundle = { resourceType: 'Bundle', type: 'collection', entry: entries };
          const consent = consentOf(named, denies);
          const decision = decide(
            request(payload),
            { subject, relatedPersons: [], consents: [consent] },
            catalogue,
            at,
            DEFAULT_OPTIONS,
          );
          const denied = new Set<Label>(
            denies.flatMap((d) =>
              'label' in d ? [d.label === 'ETH' ? 'SUD' : d.label] : (CATEGORY_LABELS[d.category] ?? []),
            ),
          );
          const allNamed = ALL_CATEGORIES.every((c) => named.includes(c));
          for (const e of decision.delivered?.entry ?? []) {
            if (e.fullUrl === SUBJECT_URL) continue;
            const reading = oracle(e.resource!);
            const what = `${e.resource!.resourceType} ${JSON.stringify([...reading.labels])} under ${JSON.stringify({ named: named.length, denies })}`;
            for (const l of reading.labels) expect(denied.has(l), what).toBe(false);
            if (reading.anything) {
              expect(allNamed, what).toBe(true);
              expect(denies, what).toEqual([]);
            }
            // Sensitive data pass only where the consent names their category.
            if (reading.labels.size)
              expect(
                named.some((c) => SENSITIVE.includes(c)),
                what,
              ).toBe(true);
          }
        },
      ),
      { numRuns: 1000, seed: Number(process.env.PROPERTY_SEED ?? 20261130) },
    );
  });
});
