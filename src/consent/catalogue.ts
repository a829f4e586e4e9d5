// The decision's rule data, read from profiles/: legal bases, data categories, life domains, classification rules.
import { readOnce } from '../reference-data.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROFILES_DIR } from '../paths.js';
import type { CodeSystem, CodeSystemConcept, Coding } from '@medplum/fhirtypes';

export const LEGAL_BASIS_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/legal-basis';
export const DATA_CATEGORY_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';
export const LIFE_DOMAIN_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/life-domain';

export interface LegalBasisEntry {
  code: string;
  display: string;
  law: string;
  inForce: boolean;
  consentRequired: boolean;
  requesterRoles: string[];
  recipientRoles: string[];
  categories: string[];
  purposes: string[];
  justificationRequired: boolean;
  justificationMinLength: number;
  criteria: string[];
  notifyClient: boolean;
  reviewRequired: boolean;
  retentionYears: number;
  maxSubjectAge?: number;
  pseudonymise: boolean;
  optOut: boolean;
  mask: string[];
  /** A statutory duty or right that regional covenants do not narrow. */
  overridesCovenant: boolean;
}

export interface CategoryInfo {
  code: string;
  display: string;
  sensitive: boolean;
  labels: Coding[];
}

export interface ClassificationRule {
  resourceType: string;
  categories: string[];
  lifeDomainAt?: string;
}

export interface Catalogue {
  legalBases: Map<string, LegalBasisEntry>;
  categories: Map<string, CategoryInfo>;
  /** Life-domain code → data category. */
  lifeDomains: Map<string, string>;
  rules: ClassificationRule[];
  personPaths: string[];
  adolescentLabel: Coding & { fromAge: number; toAge: number };
  /** Decision-reason templates: code → language → audience → template. */
  reasonTemplates: Map<string, Record<string, Record<'full' | 'public', string>>>;
}

type Prop = NonNullable<CodeSystemConcept['property']>[number];
const props = (c: CodeSystemConcept, code: string): Prop[] =>
  (c.property ?? []).filter((p) => p.code === code);
const bool = (c: CodeSystemConcept, code: string): boolean => props(c, code)[0]?.valueBoolean === true;
const codes = (c: CodeSystemConcept, code: string): string[] =>
  props(c, code).flatMap((p) => (p.valueCode ? [p.valueCode] : []));
const strings = (c: CodeSystemConcept, code: string): string[] =>
  props(c, code).flatMap((p) => (p.valueString ? [p.valueString] : []));
const int = (c: CodeSystemConcept, code: string): number | undefined => props(c, code)[0]?.valueInteger;

export function readProfile<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(PROFILES_DIR, file), 'utf8')) as T;
}

export function legalBasisEntry(c: CodeSystemConcept): LegalBasisEntry {
  return {
    code: c.code!,
    display: c.display ?? c.code!,
    law: strings(c, 'law')[0] ?? '',
    inForce: bool(c, 'inForce'),
    consentRequired: bool(c, 'consentRequired'),
    requesterRoles: codes(c, 'requesterRole'),
    recipientRoles: codes(c, 'recipientRole'),
    categories: codes(c, 'category'),
    purposes: codes(c, 'purpose'),
    justificationRequired: bool(c, 'justificationRequired'),
    justificationMinLength: int(c, 'justificationMinLength') ?? 0,
    criteria: codes(c, 'criterion'),
    notifyClient: bool(c, 'notifyClient'),
    reviewRequired: bool(c, 'reviewRequired'),
    retentionYears: int(c, 'retentionYears') ?? 15,
    maxSubjectAge: int(c, 'maxSubjectAge'),
    pseudonymise: bool(c, 'pseudonymise'),
    optOut: bool(c, 'optOut'),
    mask: strings(c, 'mask'),
    overridesCovenant: bool(c, 'overridesCovenant'),
  };
}

/** Reads the catalogue from profiles/ once per process; decide() itself never does I/O. */
export const loadCatalogue = readOnce(function loadCatalogue(): Catalogue {
  const legal = readProfile<CodeSystem>('CodeSystem-legal-basis.json');
  const categories = readProfile<CodeSystem>('CodeSystem-data-category.json');
  const domains = readProfile<CodeSystem>('CodeSystem-life-domain.json');
  const reasons = readProfile<CodeSystem>('CodeSystem-decision-reason.json');
  const classification = readProfile<{
    rules: ClassificationRule[];
    personPaths: string[];
    adolescentLabel: Catalogue['adolescentLabel'];
  }>('rules/classification.json');
  const templates = new Map<string, Record<string, Record<'full' | 'public', string>>>();
  for (const c of reasons.concept ?? []) {
    const byLang: Record<string, Record<'full' | 'public', string>> = {};
    for (const d of c.designation ?? []) {
      const lang = d.language ?? 'en';
      byLang[lang] ??= { full: c.display ?? c.code!, public: c.display ?? c.code! };
      byLang[lang][(d.use?.code as 'full' | 'public') ?? 'full'] = d.value!;
    }
    templates.set(c.code!, byLang);
  }
  return {
    legalBases: new Map((legal.concept ?? []).map((c) => [c.code!, legalBasisEntry(c)])),
    categories: new Map(
      (categories.concept ?? []).map((c) => [
        c.code!,
        {
          code: c.code!,
          display: c.display ?? c.code!,
          sensitive: bool(c, 'sensitive'),
          labels: props(c, 'securityLabel').flatMap((p) => (p.valueCoding ? [p.valueCoding] : [])),
        },
      ]),
    ),
    lifeDomains: new Map(
      (domains.concept ?? []).map((c) => [c.code!, codes(c, 'dataCategory')[0] ?? 'problems']),
    ),
    rules: classification.rules,
    personPaths: classification.personPaths,
    adolescentLabel: classification.adolescentLabel,
    reasonTemplates: templates,
  };
});
