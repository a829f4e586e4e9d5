// POST /fhir/$consent-decision: the decision an exchange would get, without moving data; or, with `at`, the decision
// it got then (replayed from the history of the consents). Audited like any decision.
import type { Request, Response } from 'express';
import { languageOf } from '../../consent/explain.js';
import { demand } from '../../auth/access.js';
import type { HttpContext } from '../context.js';
import { consentDecision as decideConsent } from '../../exchange/consent-decision.js';
import { explanationParameters } from '../../exchange/consent-explanations.js';
import { shownReasons } from '../../exchange/reasons.js';
import { principalOf, requestIdOf, sendFhir } from '../http.js';
import { badRequest } from '../../fhir/outcomes.js';
import { OperationInput } from '../parameters.js';
import { organizationRef, questionOf } from '../parse-exchange.js';
import { decisionParameters, parameters } from '../render-decision.js';
import { defineOperation } from '../define-operation.js';
import { decisionInputs, param } from '../operation-spec.js';

export async function consentDecision(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const input = new OperationInput(req.body);
  const now = ctx.clock();
  const replayAt = replayMoment(input, now);
  // Replaying a past decision is an audit question: privacy officers ask it on behalf of the original requester.
  demand(principal, replayAt ? 'audit:read' : 'exchange');
  const replayFor = replayAt ? organizationRef(input, 'requester') : undefined;
  const { run, auditId } = await decideConsent(ctx, principal, questionOf(input), {
    at: replayAt ?? now,
    replayFor,
    requestId: requestIdOf(res),
    now,
  });
  const lang = languageOf(req.get('accept-language'));
  const full = run.decision.decision === 'permit' || run.fullExplanation;
  sendFhir(
    res,
    200,
    parameters([
      ...decisionParameters({ ...run.decision, reasons: shownReasons(run) }, lang, full),
      ...explanationParameters(run.consentExplanations ?? []),
      { name: 'auditEvent', valueReference: { reference: `AuditEvent/${auditId}` } },
    ]),
  );
}

function replayMoment(input: OperationInput, now: Date): Date | undefined {
  const p = input.one('at');
  if (!p) return undefined;
  const value = p.valueDateTime ?? p.valueInstant;
  const at = value ? new Date(value) : undefined;
  if (!at || Number.isNaN(at.getTime()))
    throw badRequest(
      'Parameter "at" moet een valueDateTime of valueInstant zijn / Parameter "at" must be a valueDateTime or valueInstant',
    );
  if (at.getTime() > now.getTime())
    throw badRequest(
      'Parameter "at" ligt in de toekomst; alleen een besluit uit het verleden kan worden nagespeeld / Parameter "at" lies in the future; only past decisions can be replayed',
    );
  return at;
}

export const consentDecisionOperation = defineOperation({
  route: 'POST /fhir/$consent-decision',
  // An exchange's question, or (privacy officers) a past decision replayed: the handler demands the one asked.
  permission: ['exchange', 'audit:read'],
  summary: 'Ask for a decision without moving data',
  tag: 'Consent decisions',
  description:
    'Asks for a decision without moving data (privacy officers: a past decision replayed with at).',
  input: [
    ...decisionInputs('recipient'),
    param('at', 'dateTime', 0, '1', 'Replay the decision as it was at this moment (privacy officers)'),
  ],
  returns: 'Parameters',
  affectsState: false,
  handler: consentDecision,
});
