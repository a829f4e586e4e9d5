// POST /fhir/$request-records: decide, then query the source agency, minimise what it returned, and hand it over.
import type { Request, Response } from 'express';
import { languageOf } from '../../consent/explain.js';
import type { HttpContext } from '../context.js';
import { pullRecords } from '../../exchange/pull.js';
import { principalOf, requestIdOf, sendFhir } from '../http.js';
import { badRequest } from '../../fhir/outcomes.js';
import { OperationInput } from '../parameters.js';
import { categoriesOf, organizationRef, subjectOf } from '../parse-exchange.js';
import { denial, pulledBundle } from '../render-decision.js';
import { defineOperation } from '../define-operation.js';
import { decisionInputs } from '../operation-spec.js';

export async function requestRecords(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const input = new OperationInput(req.body);
  const subject = subjectOf(input);
  if (subject.kind !== 'person')
    throw badRequest(
      '$request-records vraagt één persoon (een BSN) als subject / $request-records takes one person (a BSN) as subject',
    );
  const source = organizationRef(input, 'source');
  const categories = categoriesOf(input);
  if (categories.length === 0)
    throw badRequest(
      'Parameter "category" (een of meer gegevenscategorieën) is verplicht / Parameter "category" (one or more data categories) is required',
      'Parameters.parameter[category]',
    );
  const question = {
    subject: { ...subject, kind: 'person' as const },
    source,
    purpose: input.coding('purpose', true),
    categories,
    legalBasis: input.coding('legalBasis'),
    justification: input.string('justification'),
    criteria: input.criteria(),
    practitioner: input.identifier('practitioner'),
  };
  const lang = languageOf(req.get('accept-language'));
  const run = await pullRecords(ctx, principal, question, { at: ctx.clock(), requestId: requestIdOf(res) });
  if (run.decision.decision === 'deny') throw denial(run, lang);
  sendFhir(res, 200, pulledBundle(run.decision, lang));
}

export const requestRecordsOperation = defineOperation({
  route: 'POST /fhir/$request-records',
  permission: 'exchange',
  summary: 'Pull records from another agency (consent-checked, minimised)',
  tag: 'Exchanges',
  description:
    'Pulls records from another agency after a consent decision; answers the minimised Bundle, or 403 when denied.',
  input: decisionInputs('source'),
  returns: 'Bundle',
  affectsState: true,
  handler: requestRecords,
});
