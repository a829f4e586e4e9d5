// The corpus of agency exports (fixtures/agency-exports/) and the consent shapes its expected verdicts are written for.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Consent, ConsentProvision } from '@medplum/fhirtypes';
import { PROJECT_ROOT } from '../src/paths.js';
import { consentResource } from './helpers.js';

export const CORPUS_DIR = path.join(PROJECT_ROOT, 'fixtures', 'agency-exports');
export const SHAPES = ['general', 'all-data', 'deny-PSY', 'deny-SUD', 'deny-SEX', 'deny-SDV'] as const;
export type Shape = (typeof SHAPES)[number];

export interface Verdict {
  delivered: string[];
  removed: Record<string, 'data-removed' | 'unknown-content-removed'>;
}

export interface AgencyExport {
  file: string;
  description: string;
  /** The sandbox organisation whose system exported it. */
  source: string;
  subject: { bsn: string };
  bundle: Bundle;
  /** What each entry holds, by fullUrl, written by hand: sensitive categories, 'unknown', 'outside'. */
  meaning: Record<string, string[]>;
  expected: Record<Shape, Verdict>;
}

export function loadCorpus(): AgencyExport[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(path.join(CORPUS_DIR, file), 'utf8')) as object) }))
    .map((x) => x as AgencyExport);
}

const DATA_CATEGORY = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** Every data category of profiles/CodeSystem-data-category.json: naming all of them covers all data. */
export const ALL_CATEGORIES: string[] = (
  JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'profiles', 'CodeSystem-data-category.json'), 'utf8')) as {
    concept: { code: string }[];
  }
).concept.map((c) => c.code);

/** The provision of a consent shape: general (a plain permit), all-data (every category named), or all-data less a label. */
export function shapeProvision(
  shape: Shape,
  categories: string[] = ALL_CATEGORIES,
): Partial<ConsentProvision> {
  if (shape === 'general') return {};
  const named = { code: [{ coding: categories.map((code) => ({ system: DATA_CATEGORY, code })) }] };
  if (shape === 'all-data') return named;
  return {
    ...named,
    provision: [{ type: 'deny', securityLabel: [{ system: ACT_CODE, code: shape.slice(5) }] }],
  };
}

/** The subject's own consent (16 and over: they consent alone) of one shape, for a recipient and purpose. */
export function shapedConsent(patientRef: string, recipient: string, purpose: string, shape: Shape): Consent {
  const consent = consentResource(patientRef, [patientRef], [recipient], [purpose]);
  return { ...consent, provision: { ...consent.provision!, ...shapeProvision(shape) } };
}
