// POST /fhir/$exchange: decide and minimise, then commit the AuditEvent, the delivery Task and the outbox job together.
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { languageOf, type Language } from '../../consent/explain.js';
import type { HttpContext } from '../context.js';
import { explanationParameters } from '../../exchange/consent-explanations.js';
import { pushExchange, type ExchangeOutcome } from '../../exchange/push.js';
import { principalOf, requestIdOf, sendFhir } from '../http.js';
import { OperationInput } from '../parameters.js';
import { payloadOf, questionOf } from '../parse-exchange.js';
import { decisionParameters, denial, parameters } from '../render-decision.js';
import {
  earlierAnswer,
  idempotencyClaim,
  isUniqueViolation,
  recordAnswer,
  type StoredAnswer,
} from '../../exchange/idempotency.js';
import { defineOperation } from '../define-operation.js';
import { decisionInputs, param } from '../operation-spec.js';

/** The answer as a replay gives it: `delivered` becomes a reference by identifier to the Bundle that went out. */
function withoutDeliveredContent(answer: Parameters, delivered: Bundle): Parameters {
  return {
    ...answer,
    parameter: (answer.parameter ?? []).map((p) =>
      p.name === 'delivered'
        ? { name: 'delivered', valueReference: { type: 'Bundle', identifier: delivered.identifier } }
        : p,
    ),
  };
}

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
  const window = ctx.config.idempotencyWindowHours;
  const replay = async () => {
    const earlier = await earlierAnswer(ctx.db, claim!, window);
    if (!earlier) throw new Error('idempotent answer vanished');
    sendFhir(res, earlier.status, earlier.body, { 'Idempotent-Replayed': 'true' });
  };
  if (claim && (await earlierAnswer(ctx.db, claim, window))) return replay();

  const at = ctx.clock();
  const input = new OperationInput(req.body, at);
  const lang = languageOf(req.get('accept-language'));
  const question = questionOf(input);
  const payload = payloadOf(input, lang, at);

  let outcome: ExchangeOutcome;
  try {
    outcome = await pushExchange(
      ctx,
      principal,
      question,
      payload,
      { at, requestId: requestIdOf(res) },
      async (tx, done) => {
        if (!claim) return;
        const answer = answerOf(done, lang);
        // A replay needs the decision, the Task and the AuditEvent; the delivered Bundle is named by its identifier
        // only, so that no care data stay in idempotency_keys for the window.
        const kept = done.accepted
          ? { ...answer, body: withoutDeliveredContent(answer.body as Parameters, done.delivered) }
          : answer;
        await recordAnswer(tx, claim, kept, window);
      },
    );
  } catch (err) {
    // A concurrent request with the same Idempotency-Key committed first: answer as it did.
    if (claim && isUniqueViolation(err)) return replay();
    throw err;
  }
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
