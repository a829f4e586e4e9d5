// $consent-decision as a use case: the decision an exchange would get, without moving data; or the decision it got at
// a past moment, replayed for the organisation that asked then. Audited like any decision.
import { isRole, type Principal } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import { badRequest } from '../fhir/outcomes.js';
import { auditDecision } from './decision-audit.js';
import { decisionServices, runDecision, type DecisionRun } from './decisions.js';
import { resolveOrganization, type OrganizationRef } from './parties.js';
import { decisionRequestOf, type DecisionQuestion } from './request.js';

export interface ConsentDecisionOptions {
  /** The moment decided at: now (read once from the clock), or the replayed moment. */
  at: Date;
  /** Replays the decision at `at` as this organisation's request (an audit question). */
  replayFor?: OrganizationRef;
  requestId?: string;
  /** The moment of the request (read once from the clock); the decision's own moment differs for a replay. */
  now?: Date;
}

export async function consentDecision(
  ctx: GatewayContext,
  principal: Principal,
  question: DecisionQuestion,
  opts: ConsentDecisionOptions,
): Promise<{ run: DecisionRun; auditId: string }> {
  const replay = opts.replayFor !== undefined;
  const asker = opts.replayFor ? await replayRequester(ctx, opts.replayFor) : principal;
  const services = decisionServices(ctx);
  const { recipient, request } = await decisionRequestOf(services, asker, question);
  const run = await runDecision(services, asker, request, question.subject, {
    at: opts.at,
    replay,
  });
  const auditId = await auditDecision(ctx, principal, run, {
    subtype: 'consent-decision',
    subject: question.subject,
    recipientOrg: recipient.reference,
    practitioner: question.practitioner,
    requestId: opts.requestId,
    // Recorded at the request's moment: for a replay that is now, not the moment replayed.
    at: opts.now ?? (replay ? undefined : opts.at),
  });
  return { run, auditId };
}

/** The organisation whose request is replayed (parameter "requester"), with its role from the directory. */
async function replayRequester(ctx: GatewayContext, ref: OrganizationRef): Promise<Principal> {
  const party = await resolveOrganization(ctx, ref, 'requester');
  if (!party.role || !isRole(party.role))
    throw badRequest(
      'De organisatie van de aanvrager heeft geen clientrol in het adresboek / The requester organisation has no client role in the directory',
    );
  return { clientId: 'replay', org: party.reference, role: party.role, scope: '' };
}
