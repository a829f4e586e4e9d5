// POST /fhir/$consent-decision: the decision an exchange would get, without moving data. Audited like any decision.
import type { Request, Response } from 'express';
import { languageOf } from '../../consent/explain.js';
import type { GatewayContext } from '../context.js';
import {
  auditExplanation,
  decisionParameters,
  parameters,
  readDecisionRequest,
  runDecision,
} from '../decisions.js';
import { audit, demand, principalOf, sendFhir } from '../http.js';
import { OperationInput } from '../parameters.js';

export async function consentDecision(ctx: GatewayContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  demand(principal, 'exchange');
  const input = new OperationInput(req.body);
  const { subject, recipient, request, practitioner } = await readDecisionRequest(ctx.db, principal, input);
  const run = await runDecision(ctx.db, ctx.config, principal, request, subject);
  const auditId = await ctx.db.transaction((tx) =>
    audit(tx, principal, {
      subtype: 'consent-decision',
      outcome: run.decision.decision === 'permit' ? 'success' : 'denied',
      description: auditExplanation(run.decision),
      recipientOrg: recipient.reference,
      patient:
        subject.kind === 'person'
          ? { bsn: subject.value, reference: run.subjectRef }
          : { reference: run.subjectRef },
      purpose: request.purpose,
      practitioner,
      consents: run.decision.consents,
      legalBasis: request.legalBasis,
      justification: request.justification,
      details: {
        reason: run.decision.reasons.map((r) => r.code),
        disclosed: run.decision.disclosed,
        redacted: run.decision.redacted,
      },
    }),
  );
  const lang = languageOf(req.get('accept-language'));
  const full = run.decision.decision === 'permit' || run.fullExplanation;
  sendFhir(
    res,
    200,
    parameters([
      ...decisionParameters(run.decision, lang, full),
      { name: 'auditEvent', valueReference: { reference: `AuditEvent/${auditId}` } },
    ]),
  );
}
