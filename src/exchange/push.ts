// $exchange as a use case: decide and minimise, then commit the AuditEvent, the delivery Task and the outbox job
// together; the delivery worker takes it from there.
import { randomUUID } from 'node:crypto';
import type { Bundle, Task } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { enqueueJob } from '../store/outbox.js';
import { BSN_SYSTEM, createResource, grantAccess } from '../store/resources.js';
import type { Principal } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import { audit } from '../audit/record.js';
import { decisionAudit } from './decision-audit.js';
import { decisionServices, runDecision, type DecisionRun } from './decisions.js';
import type { StoredRequest } from './delivery.js';
import { createNotifyTask, createReviewTask } from './follow-up.js';
import { endpointOf } from './parties.js';
import { decisionRequestOf, type DecisionQuestion } from './request.js';
import { TASK_CODE_SYSTEM } from './tasks.js';

export interface ExchangeOptions {
  /** The moment of the request (read once from the clock). */
  at: Date;
  requestId?: string;
}

/** What became of an exchange: refused (audited), or accepted with its Task, AuditEvent and queued Bundle. */
export type ExchangeOutcome =
  | { accepted: false; run: DecisionRun }
  | {
      accepted: true;
      run: DecisionRun;
      taskId: string;
      auditId: string;
      reviewId?: string;
      /** The Bundle as it goes out, named by the job's identifier. */
      delivered: Bundle;
    };

/**
 * Decides an exchange of the payload and commits its outcome in one transaction; `commit` runs last in that
 * transaction (the HTTP layer records the idempotent answer there, so that only one of two concurrent requests with
 * the same key commits).
 */
export async function pushExchange(
  ctx: GatewayContext,
  principal: Principal,
  question: DecisionQuestion,
  payload: Bundle,
  opts: ExchangeOptions,
  commit: (tx: Queryable, outcome: ExchangeOutcome) => Promise<void>,
): Promise<ExchangeOutcome> {
  const { subject, practitioner } = question;
  const services = decisionServices(ctx);
  const { recipient, request } = await decisionRequestOf(services, principal, question);
  request.payload = payload;
  const endpoint = await endpointOf(services, recipient);

  const run = await runDecision(services, principal, request, subject, { at: opts.at });
  const { decision } = run;
  const auditBase = decisionAudit(run, {
    subtype: 'exchange',
    subject,
    recipientOrg: recipient.reference,
    practitioner,
    requestId: opts.requestId,
    at: opts.at,
  });

  if (decision.decision === 'deny') {
    const refused: ExchangeOutcome = { accepted: false, run };
    await ctx.db.transaction(async (tx) => {
      await audit(tx, principal, auditBase);
      await commit(tx, refused);
    });
    return refused;
  }

  const jobId = randomUUID();
  const delivered: Bundle = {
    ...decision.delivered!,
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${jobId}` },
  };
  const now = opts.at;
  const accepted = await ctx.db.transaction(async (tx) => {
    const task = await createResource<Task>(
      tx,
      {
        resourceType: 'Task',
        status: 'accepted',
        intent: 'order',
        code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'exchange', display: 'Exchange of records' }] },
        identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${jobId}` }],
        for: {
          // The sender's own registration: another organisation's registration id is not the sender's to see.
          reference: run.ownSubjectRef ?? run.subjectRef,
          identifier:
            subject.kind === 'person' ? { system: BSN_SYSTEM, value: subject.value } : subject.identifier,
        },
        requester: { reference: principal.org },
        owner: { reference: recipient.reference },
        authoredOn: now.toISOString(),
        lastModified: now.toISOString(),
        reasonCode: { coding: [request.purpose] },
        input: [{ type: { text: 'delivered bundle' }, valueIdentifier: delivered.identifier! }],
      },
      principal.org,
      null,
      now,
    );
    await grantAccess(tx, 'Task', task.id!, recipient.reference);
    const auditId = await audit(tx, principal, {
      ...auditBase,
      entities: [{ reference: `Task/${task.id}` }],
    });
    const review = decision.obligations.some((o) => o.code === 'REVIEW')
      ? await createReviewTask(tx, principal, run, auditId, recipient.reference, now)
      : undefined;
    if (decision.obligations.some((o) => o.code === 'NOTIFY-CLIENT'))
      await createNotifyTask(tx, principal, run, auditId, now);
    const { payload: _payload, ...decidedRequest } = request;
    await enqueueJob<StoredRequest>(tx, {
      id: jobId,
      taskId: task.id!,
      senderOrg: principal.org,
      recipientOrg: recipient.reference,
      endpointUrl: endpoint,
      bundle: delivered,
      // A deliberate exception to the one clock: the delivery workers measure the deadline on the system clock, not on
      // the request's (which the sandbox moves), so the deadline is real time from now.
      deadline: new Date(Date.now() + ctx.config.deliveryDeadlineMs),
      consents: decision.consents,
      request: { request: decidedRequest, subject, principal },
    });
    const outcome: ExchangeOutcome = {
      accepted: true,
      run,
      taskId: task.id!,
      auditId,
      reviewId: review?.id,
      delivered,
    };
    await commit(tx, outcome);
    return outcome;
  });
  ctx.delivery.kick();
  return accepted;
}
