// Follow-up Tasks of a decision (privacy-officer review, client notification), created in the exchange's transaction.
import type { Task } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { createResource } from '../store/resources.js';
import type { Principal } from '../auth/access.js';
import type { Decision, DecisionRequest } from '../consent/types.js';
import { TASK_CODE_SYSTEM } from './tasks.js';

/** What follow-up Tasks take of a decision (a DecisionRun has it). */
export interface DecidedRun {
  request: Pick<DecisionRequest, 'legalBasis' | 'justification' | 'criteria'>;
  decision: Pick<Decision, 'obligations'>;
  subjectRef?: string;
  ownSubjectRef?: string;
}

/** A follow-up Task about a decision (review, client notification), created in the exchange's transaction. */
async function createFollowUpTask(
  tx: Queryable,
  principal: Principal,
  run: DecidedRun,
  auditId: string,
  at: Date,
  task: { code: string; display: string; dueDays: number; owner?: string; input: NonNullable<Task['input']> },
): Promise<Task> {
  return createResource<Task>(
    tx,
    {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      priority: 'routine',
      code: { coding: [{ system: TASK_CODE_SYSTEM, code: task.code, display: task.display }] },
      for: { reference: run.ownSubjectRef ?? run.subjectRef },
      requester: { reference: principal.org },
      owner: task.owner ? { reference: task.owner } : undefined,
      authoredOn: at.toISOString(),
      restriction: {
        period: { end: new Date(at.getTime() + task.dueDays * 24 * 3600 * 1000).toISOString() },
      },
      focus: { reference: `AuditEvent/${auditId}` },
      input: task.input,
    },
    principal.org,
    null,
    at,
  );
}

/** A privacy-officer review Task for a legal-exception use, due in 14 days. */
export function createReviewTask(
  tx: Queryable,
  principal: Principal,
  run: DecidedRun,
  auditId: string,
  recipientOrg: string,
  at: Date,
): Promise<Task> {
  return createFollowUpTask(tx, principal, run, auditId, at, {
    code: 'legal-exception-review',
    display: 'Review of a legal-exception use',
    dueDays: 14,
    input: [
      { type: { text: 'legalBasis' }, valueCoding: run.request.legalBasis! },
      { type: { text: 'justification' }, valueString: run.request.justification ?? '' },
      { type: { text: 'recipient' }, valueReference: { reference: recipientOrg } },
      ...Object.entries(run.request.criteria ?? {}).map(([code, v]) => ({
        type: { text: `criterion:${code}` },
        valueString: String(v),
      })),
    ],
  });
}

/** A Task for the disclosing organisation to inform the client afterwards (NOTIFY-CLIENT), due in 30 days. */
export function createNotifyTask(
  tx: Queryable,
  principal: Principal,
  run: DecidedRun,
  auditId: string,
  at: Date,
): Promise<Task> {
  return createFollowUpTask(tx, principal, run, auditId, at, {
    code: 'notify-client',
    display: 'Inform the client of a disclosure without consent',
    dueDays: 30,
    owner: principal.org,
    input: [{ type: { text: 'legalBasis' }, valueCoding: run.request.legalBasis! }],
  });
}
