// What an accepted exchange writes, durable before its 202: the exchange Task (readable by the recipient too), the
// audit record, follow-up Tasks of its obligations and the outbox job. Written for a batch of exchanges at once (the
// exchanges accepted in one turn of the event loop share a transaction: src/store/group-commit.ts), in a few
// statements for the whole batch.
import type { Task } from '@medplum/fhirtypes';
import type { Principal } from '../auth/access.js';
import { auditAll, type AuditRecord } from '../audit/record.js';
import type { Queryable } from '../store/database.js';
import { enqueueJobs, type NewJob } from '../store/outbox.js';
import { createResources } from '../store/resources.js';
import type { StoredRequest } from './delivery.js';
import { createNotifyTask, createReviewTask, type DecidedRun } from './follow-up.js';

export interface AcceptedWrite {
  principal: Principal;
  run: DecidedRun;
  /** The exchange Task, with its id. */
  task: Task & { id: string };
  recipientOrg: string;
  /** The audit record of the exchange (the Task is added as its entity). */
  audit: AuditRecord;
  job: NewJob<StoredRequest>;
  at: Date;
}

/** What the writes of one accepted exchange gave: its audit record and, for a legal exception, its review Task. */
export interface AcceptedIds {
  auditId: string;
  reviewId?: string;
}

const obliges = (w: AcceptedWrite, code: string) => w.run.decision.obligations.some((o) => o.code === code);

/** Writes accepted exchanges in the caller's transaction; returns their ids in order. */
export async function writeAccepted(tx: Queryable, writes: AcceptedWrite[]): Promise<AcceptedIds[]> {
  await createResources(
    tx,
    writes.map((w) => ({ resource: w.task, org: w.principal.org, readers: [w.recipientOrg], at: w.at })),
  );
  const auditIds = await auditAll(
    tx,
    writes.map((w) => ({
      requester: w.principal,
      input: { ...w.audit, entities: [{ reference: `Task/${w.task.id}` }] },
    })),
  );
  const ids: AcceptedIds[] = [];
  for (const [n, w] of writes.entries()) {
    const auditId = auditIds[n]!;
    const review = obliges(w, 'REVIEW')
      ? await createReviewTask(tx, w.principal, w.run, auditId, w.recipientOrg, w.at)
      : undefined;
    if (obliges(w, 'NOTIFY-CLIENT')) await createNotifyTask(tx, w.principal, w.run, auditId, w.at);
    ids.push({ auditId, reviewId: review?.id });
  }
  await enqueueJobs(
    tx,
    writes.map((w) => w.job),
  );
  return ids;
}
