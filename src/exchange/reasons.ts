// What a requester is told of a decision's reasons, and the full explanation the audit record keeps.
import { loadCatalogue } from '../consent/catalogue.js';
import { renderReason, type Language } from '../consent/explain.js';
import type { Decision, Reason } from '../consent/types.js';
import type { DecisionRun } from './decisions.js';

/**
 * The reasons a requester is told. An organisation without a registration of its own of the person hears one and
 * the same answer whether the person is unknown, has no consent, or anything else about the person stands in the way,
 * so that a decision cannot be used to find out who is in the index; the audit record keeps the real reasons.
 */
export function shownReasons(run: DecisionRun): Reason[] {
  if (run.decision.decision === 'permit' || run.related) return run.decision.reasons;
  const personal = run.decision.reasons.filter((r) => PERSONAL_REASONS.has(r.code));
  if (personal.length === 0) return run.decision.reasons;
  return [
    ...run.decision.reasons.filter((r) => !PERSONAL_REASONS.has(r.code)),
    { code: 'no-basis', params: {} },
  ];
}

/** Reasons that depend on what the index holds about the person (as opposed to the request or the legal basis). */
const PERSONAL_REASONS = new Set([
  'subject-unknown',
  'requester-not-related',
  'birthdate-missing',
  'no-gezag-holder',
  'consent-missing',
  'consent-refused',
  'consent-renewal-required',
  'subject-too-old',
  'objection-recorded',
  'facts-conflict',
  'family-member-no-basis',
  'nothing-to-disclose',
  'decision-error',
]);

export function reasonText(reason: Reason, lang: Language, full: boolean): string {
  return renderReason(reason, loadCatalogue(), lang, full ? 'full' : 'public');
}

/** The full explanation for the audit record (always English, complete). */
export function auditExplanation(decision: Decision): string {
  return decision.reasons.map((r) => reasonText(r, 'en', true)).join(' ');
}
