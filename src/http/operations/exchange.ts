// POST /fhir/$exchange: decide and minimise, then commit the AuditEvent, the delivery Task and the outbox job together.
import type { Request, Response } from 'express';
import { languageOf, type Language } from '../../consent/explain.js';
import type { HttpContext } from '../context.js';
import { explanationParameters } from '../../exchange/consent-explanations.js';
import type { ExchangeOutcome } from '../../exchange/push.js';
import { principalOf, requestIdOf, sendFhir } from '../http.js';
import { OperationInput } from '../parameters.js';
import { payloadOf, questionOf } from '../parse-exchange.js';
import { decisionParameters, denial, parameters } from '../render-decision.js';
import { exchangeOnce, idempotencyClaim, type StoredAnswer } from '../../exchange/idempotency.js';
import { defineOperation } from '../define-operation.js';
import { decisionInputs, param } from '../operation-spec.js';

/** The 202 answer to an accepted exchange, or the 403 of a refused one. */
function answerOf(outcome: ExchangeOutcome, lang: Language): StoredAnswer {
  const { run } = outcome;
  if (!outcome.accepted) return { status: 403, body: denial(run, lang).outcome };
  return {
    status: 202,
    body: parameters([
      ...decisionParameters(run.decision, lang, true),
      ...explanationParameters(run.consentExplanations ?? []),
      { name: 'exchange', valueReference: { reference: `Task/${outcome.taskId}` } },
      { name: 'auditEvent', valueReference: { reference: `AuditEvent/${outcome.auditId}` } },
      ...(outcome.reviewId
        ? [{ name: 'review', valueReference: { reference: `Task/${outcome.reviewId}` } }]
        : []),
      { name: 'delivered', resource: outcome.delivered },
    ]),
  };
}

export async function exchange(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const claim = idempotencyClaim(principal.clientId, req.get('idempotency-key'), req.body);
  const lang = languageOf(req.get('accept-language'));
  const at = ctx.clock();
  const read = () => {
    const input = new OperationInput(req.body, at);
    const question = questionOf(input);
    const payload = payloadOf(input, lang, at);
    return { question, payload, answerOf: (done: ExchangeOutcome) => answerOf(done, lang) };
  };
  const result = await exchangeOnce(ctx, principal, claim, read, {
    at,
    requestId: requestIdOf(res),
  });
  if (result.replayed) {
    sendFhir(res, result.answer.status, result.answer.body, { 'Idempotent-Replayed': 'true' });
    return;
  }
  const { outcome } = result;
  if (!outcome.accepted) throw denial(outcome.run, lang);
  sendFhir(res, 202, answerOf(outcome, lang).body, { 'Content-Location': `/fhir/Task/${outcome.taskId}` });
}

export const exchangeOperation = defineOperation({
  route: 'POST /fhir/$exchange',
  permission: 'exchange',
  summary: 'Push records to another agency (consent-checked)',
  tag: 'Exchanges',
  description:
    'Pushes records to another agency after a consent decision; permitted → 202 with the decision and the Task tracking delivery, denied → 403.',
  input: [
    ...decisionInputs('recipient'),
    param('payload', 'Bundle', 0, '1', 'The records (a collection Bundle); or nativePayload with format'),
    param(
      'nativePayload',
      'string',
      0,
      '1',
      'A native record to map first (GET /mappings lists the formats)',
    ),
    param('format', 'code', 0, '1', 'The format of nativePayload'),
  ],
  returns: 'Parameters',
  affectsState: true,
  handler: exchange,
});
