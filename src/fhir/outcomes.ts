// OperationOutcome builders and the one error type that carries them to the error middleware.
import type { CodeableConcept, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    readonly headers: Record<string, string> = {},
  ) {
    super(outcome.issue?.[0]?.diagnostics ?? `HTTP ${status}`);
  }
}

export function outcome(
  code: IssueCode,
  diagnostics: string,
  extra: Partial<OperationOutcomeIssue> = {},
): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics, ...extra }] };
}

export function informational(diagnostics: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', diagnostics }],
  };
}

export const badRequest = (msg: string, expression?: string): FhirError =>
  new FhirError(400, outcome('invalid', msg, expression ? { expression: [expression] } : {}));
export const unauthorized = (msg: string): FhirError =>
  new FhirError(401, outcome('login', msg), { 'WWW-Authenticate': 'Bearer realm="ketenpoort"' });
export const forbidden = (msg: string, details?: CodeableConcept): FhirError =>
  new FhirError(403, outcome('forbidden', msg, details ? { details } : {}));
export const notFound = (msg = 'Niet gevonden / Resource not found'): FhirError =>
  new FhirError(404, outcome('not-found', msg));
/** A resource the caller asked for that is not there, or not theirs to see (the same answer for both). */
export const unknownResource = (ref: string): FhirError =>
  notFound(`${ref} is onbekend / ${ref} is not known`);
export const conflict = (msg: string): FhirError => new FhirError(409, outcome('conflict', msg));
export const preconditionFailed = (msg: string): FhirError => new FhirError(412, outcome('conflict', msg));
export const tooLarge = (msg: string): FhirError => new FhirError(413, outcome('too-costly', msg));
export const unprocessable = (issues: OperationOutcomeIssue[]): FhirError =>
  new FhirError(422, { resourceType: 'OperationOutcome', issue: issues });
export const unavailable = (msg: string): FhirError => new FhirError(503, outcome('transient', msg));
export const badGateway = (msg: string): FhirError => new FhirError(502, outcome('exception', msg));
export const internal = (): FhirError =>
  new FhirError(
    500,
    outcome(
      'exception',
      'Interne fout; het verzoek is niet uitgevoerd. Zie het serverlog. / Internal error; the request was not carried out. See the server log.',
    ),
  );
