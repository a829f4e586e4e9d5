// What a check of incoming content found, and the one place where a refusal becomes an OperationOutcome error.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError, unprocessable } from './outcomes.js';

/**
 * A check's verdict. `refused`: the content was not judged by the rules, being `unreadable` (not the kind of content
 * asked for: 400) or `invalid` (refused whole, with these issues: 422). Otherwise the content, with every issue the
 * rules found; errors among them refuse it (422).
 */
export type Verdict<T> =
  | { refused: 'unreadable' | 'invalid'; issues: OperationOutcomeIssue[] }
  | { refused?: undefined; issues: OperationOutcomeIssue[]; value: T };

export const isError = (i: OperationOutcomeIssue): boolean =>
  i.severity === 'error' || i.severity === 'fatal';

/** A verdict that refuses content it cannot read: one issue, at `expression` when given. */
export function unreadable(diagnostics: string, expression?: string): Verdict<never> {
  return {
    refused: 'unreadable',
    issues: [
      {
        severity: 'error',
        code: 'invalid',
        diagnostics,
        ...(expression ? { expression: [expression] } : {}),
      },
    ],
  };
}

/** The OperationOutcome error a verdict answers with; undefined when it accepts the content. */
export function refusal(verdict: Verdict<unknown>): FhirError | undefined {
  if (verdict.refused === 'unreadable')
    return new FhirError(400, { resourceType: 'OperationOutcome', issue: verdict.issues });
  if (verdict.refused === 'invalid') return unprocessable(verdict.issues);
  const errors = verdict.issues.filter(isError);
  return errors.length ? unprocessable(errors) : undefined;
}

/** The checked content; a refusal is thrown as its OperationOutcome error. */
export function accepted<T>(verdict: Verdict<T>): T {
  const error = refusal(verdict);
  if (error || verdict.refused) throw error;
  return verdict.value;
}
