// The audit record of a decision, as $exchange, $request-records, $consent-decision and CDS Hooks write it.
import type { Identifier } from '@medplum/fhirtypes';
import type { AuditWriter } from '../audit/writer.js';
import type { Principal } from '../auth/access.js';
import type { Subject } from '../person-index/facts.js';
import { auditRead, type AuditRecord } from '../audit/record.js';
import type { DecisionRun } from './decisions.js';
import { auditExplanation } from './reasons.js';

/** The named facts of a decision kept in its audit record: reason codes, data categories, obligations, request id. */
function decisionDetails(
  run: DecisionRun,
  requestId?: string,
  via?: string,
): Record<string, string[] | string> {
  const d = run.decision;
  return {
    reason: d.reasons.map((r) => r.code),
    disclosed: d.disclosed,
    redacted: d.redacted,
    obligation: d.obligations.map((o) => `${o.code}${o.removed ? ` ${o.removed}` : ''}: ${o.detail}`),
    ...(requestId ? { requestId } : {}),
    ...(via ? { via } : {}),
  };
}

export interface DecisionAuditOptions {
  subtype: 'exchange' | 'request-records' | 'consent-decision';
  subject: Pick<Subject, 'kind' | 'value'>;
  recipientOrg?: string;
  practitioner?: Identifier;
  requestId?: string;
  via?: string;
  /** The moment of the request, which the record is recorded at (the system time if absent). */
  at?: Date;
}

/**
 * Records a decision that moves no data, through the group-commit writer: decisions answered in the same turn share
 * one commit, and each resolves (and is answered) only once its own record is committed. Its id.
 */
export async function auditDecision(
  ctx: { auditWriter: AuditWriter },
  principal: Principal,
  run: DecisionRun,
  opts: DecisionAuditOptions,
): Promise<string> {
  return auditRead(ctx, principal, decisionAudit(run, opts));
}

/**
 * The audit record of a decision, as $exchange, $request-records, $consent-decision and CDS Hooks write it: the
 * outcome and full explanation, whose data (BSN and the Patient or Group), for which recipient, purpose and basis,
 * the consents it rests on, and its details.
 */
export function decisionAudit(run: DecisionRun, opts: DecisionAuditOptions): AuditRecord {
  const { decision, request } = run;
  return {
    subtype: opts.subtype,
    outcome: decision.decision === 'permit' ? 'success' : 'denied',
    description: auditExplanation(decision),
    recipientOrg: opts.recipientOrg,
    patient:
      opts.subject.kind === 'person'
        ? { bsn: opts.subject.value, reference: run.subjectRef }
        : { reference: run.subjectRef },
    purpose: request.purpose,
    practitioner: opts.practitioner,
    consents: decision.consents,
    legalBasis: request.legalBasis,
    justification: request.justification,
    details: decisionDetails(run, opts.requestId, opts.via),
    recorded: opts.at,
  };
}
