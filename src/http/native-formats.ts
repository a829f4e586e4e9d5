// What the mapping operations ($to-fhir, $from-fhir) share: the format a request names, the bodies they read, and
// the OperationOutcome of what a mapping could not carry over.
import express, { type Request, type RequestHandler } from 'express';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { formatNamed, type NativeFormat } from '../mappings/formats.js';
import type { HttpContext } from './context.js';
import { guardedJson } from './body-guard.js';
import { requireToken } from './http.js';
import { informational, notFound } from '../fhir/outcomes.js';

/** What a mapping could not carry over, or that everything was. */
export function mappedOutcome(count: number, issues: OperationOutcomeIssue[]): OperationOutcome {
  return issues.length
    ? { resourceType: 'OperationOutcome', issue: issues }
    : informational(`every field of ${count} record(s) was mapped`);
}

export function formatOf(req: Request): NativeFormat {
  const format = formatNamed(String(req.params.format));
  if (!format)
    throw notFound(
      `Onbekend formaat "${String(req.params.format)}"; GET /mappings noemt de formaten / Unknown mapping format "${String(req.params.format)}"; GET /mappings lists the formats`,
    );
  return format;
}

/** Before a mapping operation: the token (GET /mappings is public), then a JSON or CSV body. */
export const mappingInput = (ctx: HttpContext): RequestHandler[] => [
  requireToken(ctx),
  guardedJson({ type: ['application/json', 'application/fhir+json'], limit: ctx.config.bodyLimit }),
  express.text({ type: ['text/csv', 'text/plain'], limit: ctx.config.bodyLimit }),
];
