// $exchange as a use case: decide and minimise, then commit the AuditEvent, the delivery Task and the outbox job
// together; the delivery worker takes it from there.
import { randomUUID } from 'node:crypto';
import type { Bundle, Task } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { BSN_SYSTEM } from '../store/resources.js';
import type { Principal } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import { audit, auditRead } from '../audit/record.js';
import { writeAccepted, type AcceptedIds, type AcceptedWrite } from './accepted.js';
import { decisionAudit } from './decision-audit.js';
import { decisionServices, runDecision, type DecisionRun } from './decisions.js';
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
 * Decides an exchange of the payload and commits its outcome; `commit`, when given, runs last in the same transaction
 * (the idempotent answer is recorded there, so that only one of two concurrent requests with the same key commits).
 * Without it, the writes go with those of the other exchanges of this turn (`ctx.acceptedExchanges`).
 */
export async function pushExchange(
  ctx: GatewayContext,
  principal: Principal,
  question: DecisionQuestion,
  payload: Bundle,
  opts: ExchangeOptions,
  commit?: (tx: Queryable, outcome: ExchangeOutcome) => Promise<void>,
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
    if (!commit) {
      // Nothing but the record to write: it goes with the other records of this turn (group commit).
      await auditRead(ctx, principal, auditBase);
      return refused;
    }
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
  const task: Task & { id: string } = {
    resourceType: 'Task',
    id: randomUUID(),
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
  };
  const { payload: _payload, ...decidedRequest } = request;
  const write: AcceptedWrite = {
    principal,
    run,
    task,
    recipientOrg: recipient.reference,
    audit: auditBase,
    at: now,
    job: {
      id: jobId,
      taskId: task.id,
      senderOrg: principal.org,
      recipientOrg: recipient.reference,
      endpointUrl: endpoint,
      bundle: delivered,
      // A deliberate exception to the one clock: the delivery workers measure the deadline on the system clock, not on
      // the request's (which the sandbox moves), so the deadline is real time from now.
      deadline: new Date(Date.now() + ctx.config.deliveryDeadlineMs),
      consents: decision.consents,
      request: { request: decidedRequest, subject, principal },
    },
  };
  const outcomeOf = (ids: AcceptedIds): ExchangeOutcome => ({
    accepted: true,
    run,
    taskId: task.id,
    auditId: ids.auditId,
    reviewId: ids.reviewId,
    delivered,
  });
  // Without an idempotent answer to record, the exchanges accepted in one turn share a transaction (group commit);
  // each is answered only once its own writes are committed.
  const outcome = commit
    ? await ctx.db.transaction(async (tx) => {
        const [ids] = await writeAccepted(tx, [write]);
        const done = outcomeOf(ids!);
        await commit(tx, done);
        return done;
      })
    : outcomeOf(await ctx.acceptedExchanges.add(write));
  ctx.delivery.kick();
  return outcome;
}
