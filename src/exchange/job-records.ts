// What the end of a delivery job writes, in the caller's transaction: the outbox row, the exchange Task, the audit
// record and, when nothing went out, a notice to the sender. Written for a whole batch of jobs at once (a few
// statements for the batch), so that the delivery worker keeps up with the exchanges accepted.
import type { Communication, Task } from '@medplum/fhirtypes';
import { auditAll, type AuditRecord, type AuditRequester } from '../audit/record.js';
import type { Queryable } from '../store/database.js';
import { markCancelled, markDeliveredAll, pendingJobsResting, type JobRef } from '../store/outbox.js';
import { BSN_SYSTEM, createResource } from '../store/resources.js';
import { attemptOutputs, TASK_CODE_SYSTEM, updateTasks, type TaskChange } from './tasks.js';

/** The delivery worker acts for the sending organisation. */
const deliveryRequester = (job: JobRef): AuditRequester => ({
  org: job.sender_org,
  clientId: 'ketenpoort-delivery',
});

/** The audit record of what became of a job; the person (or family) and the purpose come from its exchange Task. */
function jobAudit(
  job: JobRef,
  task: Task | undefined,
  outcome: 'success' | 'error' | 'denied',
  description: string,
  at?: Date,
): { requester: AuditRequester; input: AuditRecord } {
  const about = task?.for;
  const bsn = about?.identifier?.system === BSN_SYSTEM ? about.identifier.value : undefined;
  return {
    requester: deliveryRequester(job),
    input: {
      subtype: 'delivery',
      outcome,
      description,
      recipientOrg: job.recipient_org,
      // A search by BSN shows the delivery too.
      patient: about?.reference || bsn ? { bsn, reference: about?.reference } : undefined,
      purpose: task?.reasonCode?.coding?.[0],
      entities: [{ reference: `Task/${job.task_id}` }],
      recorded: at,
    },
  };
}

/** Tells the sending organisation (a Communication it can read) that its exchange did not go through. */
export async function notifySender(tx: Queryable, job: JobRef, text: string, at: Date): Promise<void> {
  await createResource<Communication>(
    tx,
    {
      resourceType: 'Communication',
      status: 'completed',
      category: [{ coding: [{ system: TASK_CODE_SYSTEM, code: 'exchange-not-delivered' }] }],
      about: [{ reference: `Task/${job.task_id}` }],
      recipient: [{ reference: job.sender_org }],
      sent: at.toISOString(),
      payload: [{ contentString: text }],
    },
    job.sender_org,
    null,
    at,
  );
}

/** Sets the Tasks of jobs and records what became of them, for a batch: one Task write and one audit append. */
export async function recordJobs(
  tx: Queryable,
  entries: {
    job: JobRef;
    change: Omit<TaskChange, 'taskId'>;
    outcome: 'success' | 'error' | 'denied';
    description: string;
  }[],
  at?: Date,
): Promise<void> {
  if (entries.length === 0) return;
  const tasks = await updateTasks(
    tx,
    entries.map((e) => ({ ...e.change, taskId: e.job.task_id })),
    at,
  );
  await auditAll(
    tx,
    entries.map((e) => jobAudit(e.job, tasks.get(e.job.task_id), e.outcome, e.description, at)),
  );
}

/** A job the recipient took, with its answer and the attempt it took. */
export interface Delivered {
  job: JobRef & { attempts: number };
  response: string;
}

/**
 * Records deliveries, a batch at once: the jobs delivered and their payloads deleted, their Tasks completed, each on
 * record. Returns per delivery whether this recording counted (false when the job was no longer pending: recorded
 * already, or cancelled).
 */
export async function recordDeliveries(tx: Queryable, delivered: Delivered[]): Promise<boolean[]> {
  const recorded = await markDeliveredAll(
    tx,
    delivered.map((d) => d.job.id),
  );
  await recordJobs(
    tx,
    delivered
      .filter((d) => recorded.has(d.job.id))
      .map(({ job, response }) => ({
        job,
        change: {
          status: 'completed',
          outputs: attemptOutputs(job.attempts, response),
        },
        outcome: 'success',
        description: `Delivered to ${job.recipient_org} after ${job.attempts} attempt(s): ${response}`,
      })),
  );
  return delivered.map((d) => recorded.has(d.job.id));
}

/** Cancels jobs that were not delivered yet: payload deleted, Task cancelled, audited, sender told (at `at`). */
export async function cancelJobs(tx: Queryable, jobs: JobRef[], reason: string, at: Date): Promise<void> {
  const cancelled: JobRef[] = [];
  for (const job of jobs) if (await markCancelled(tx, job.id, reason)) cancelled.push(job);
  await recordJobs(
    tx,
    cancelled.map((job) => ({
      job,
      change: { status: 'cancelled', statusReason: reason },
      outcome: 'denied',
      description: reason,
    })),
    at,
  );
  for (const job of cancelled) await notifySender(tx, job, reason, at);
}

/** Cancels every pending job whose decision rested on this Consent (a withdrawal takes effect for queued exchanges too). */
export async function cancelJobsResting(
  tx: Queryable,
  consentRef: string,
  reason: string,
  at: Date,
): Promise<number> {
  const jobs = await pendingJobsResting(tx, consentRef);
  await cancelJobs(tx, jobs, reason, at);
  return jobs.length;
}
