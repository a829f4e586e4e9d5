// POST /fhir/$consent-decision: the decision an exchange would get, without moving data; or, with `at`, the decision
// it got then (replayed from the history of the consents). Audited like any decision.
import type { Request, Response } from 'express';
import { languageOf } from '../../consent/explain.js';
import { isRole, type Principal } from '../../auth/access.js';
import type { HttpContext } from '../context.js';
import {
  auditDecision,
  decisionParameters,
  shownReasons,
  parameters,
  readDecisionRequest,
  resolveOrganization,
  runDecision,
} from '../../exchange/decisions.js';
import { explanationParameters } from '../../exchange/consent-explanations.js';
import { demand, principalOf, requestIdOf, sendFhir } from '../http.js';
import { badRequest } from '../../fhir/outcomes.js';
import { OperationInput } from '../parameters.js';

export async function consentDecision(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const input = new OperationInput(req.body);
  const replayAt = replayMoment(input);
  // Replaying a past decision is an audit question: privacy officers ask it on behalf of the original requester.
  demand(principal, replayAt ? 'audit:read' : 'exchange');
  const asker = replayAt ? await replayRequester(ctx, input) : principal;
  const { subject, recipient, request, practitioner } = await readDecisionRequest(ctx.db, asker, input);
  const run = await runDecision(ctx.db, ctx.config, asker, request, subject, replayAt);
  const auditId = await auditDecision(ctx.db, principal, run, {
    subtype: 'consent-decision',
    subject,
    recipientOrg: recipient.reference,
    practitioner,
    requestId: requestIdOf(res),
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

function replayMoment(input: OperationInput): Date | undefined {
  const p = input.one('at');
  if (!p) return undefined;
  const value = p.valueDateTime ?? p.valueInstant;
  const at = value ? new Date(value) : undefined;
  if (!at || Number.isNaN(at.getTime()))
    throw badRequest('Parameter "at" must be a valueDateTime or valueInstant');
  if (at.getTime() > Date.now())
    throw badRequest('Parameter "at" lies in the future; only past decisions can be replayed');
  return at;
}

/** The organisation whose request is replayed (parameter "requester"), with its role from the directory. */
async function replayRequester(ctx: HttpContext, input: OperationInput): Promise<Principal> {
  const party = await resolveOrganization(ctx.db, input, 'requester');
  if (!party.role || !isRole(party.role))
    throw badRequest('The requester organisation has no client role in the directory');
  return { clientId: 'replay', org: party.reference, role: party.role, scope: '' };
}

import { defineOperation } from '../define-operation.js';
import { decisionInputs, param } from '../operation-spec.js';

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
