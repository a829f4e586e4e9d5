// The cjg-referral format as a whole: the JSON schema and checks of a form and its field tables (the CSV layout is
// in referral-csv.ts).
import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { agencyEntity, referralEntity, type NativeReferral } from './cjg-referral.js';
import { childEntity, parentEntity } from './referral-people.js';
import { referralFromFhir, referralToFhir } from './referral-bundle.js';
import { describeEntity, MappingError, type Entity, type ListSpec } from './fields.js';
import { recordChecker } from './record-check.js';
import type { Language } from '../consent/explain.js';

/** Invalid native input: every problem found, each with its place (JSON path, or CSV row and column). */
export class NativeInputError extends Error {
  constructor(readonly issues: OperationOutcomeIssue[]) {
    super(issues[0]?.diagnostics ?? 'invalid input');
  }
}

export const MAX_ISSUES = 100;
export type ListName = 'parents' | 'children' | 'agencies';

/** The lists of a form: parents, children (at least one) and involved agencies. */
export const REFERRAL_LISTS: Record<ListName, ListSpec> = {
  parents: { entity: parentEntity as Entity<never>, maxItems: 4 },
  children: { entity: childEntity as Entity<never>, required: true, minItems: 1, maxItems: 20 },
  agencies: { entity: agencyEntity as Entity<never> },
};

/** Checks one form: its shape against the schema, then BSN 11-tests and dates (real, not in the future). */
export const checkReferral = recordChecker('cjg-referral', referralEntity as Entity<never>, REFERRAL_LISTS);

/** Checks and maps one JSON form; throws NativeInputError with every problem. */
export function referralJsonToFhir(input: unknown, lang: Language = 'en', now = new Date()): Bundle {
  const issues = checkReferral(input, now, lang);
  if (issues.length) throw new NativeInputError(issues.slice(0, MAX_ISSUES));
  return referralToFhir(input as NativeReferral);
}

export { MappingError, referralFromFhir, referralToFhir };

export const referralTables = [referralEntity, parentEntity, childEntity, agencyEntity].map((e) =>
  describeEntity(e as Entity<unknown>),
);
