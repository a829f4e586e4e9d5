// The outbox (delivery_jobs): an exchange's job is queued in the exchange's transaction, then claimed under a lease by
// a delivery worker, and ends delivered, failed or cancelled — its payload deleted in each case.
import type { Bundle } from '@medplum/fhirtypes';
import type { Queryable } from './database.js';

/** A job as it is queued; `request` is what the re-check at send time needs (stored as JSON). */
export interface NewJob<R> {
  id: string;
  taskId: string;
  senderOrg: string;
  recipientOrg: string;
  endpointUrl: string;
  bundle: Bundle;
  /** The moment the job gives up, on the system clock the delivery workers measure it with. */
  deadline: Date;
  /** The Consents the decision rested on: withdrawing one cancels the job. */
  consents: string[];
  request: R;
}

export interface ClaimedJob<R = unknown> {
  id: string;
  task_id: string;
  sender_org: string;
  recipient_org: string;
  endpoint_url: string;
  bundle: Bundle | null;
  attempts: number;
  deadline: Date;
  request: R | null;
  /** The token of this claim: only its holder renews the lease. */
  lease_id: string;
}

export type JobRef = Pick<ClaimedJob, 'id' | 'task_id' | 'sender_org' | 'recipient_org'>;

/** Queues jobs, due at once, in the caller's transaction: one statement for all. */
export async function enqueueJobs<R>(tx: Queryable, jobs: NewJob<R>[]): Promise<void> {
  if (jobs.length === 0) return;
  await tx.query(
    `INSERT INTO delivery_jobs (id, task_id, sender_org, recipient_org, endpoint_url, bundle, status, next_attempt_at, deadline, consents, request)
     SELECT id, task_id, sender_org, recipient_org, endpoint_url, bundle, 'pending', now(), deadline,
            ARRAY(SELECT jsonb_array_elements_text(consents)), request
     FROM jsonb_to_recordset($1::jsonb) AS j(id text, task_id text, sender_org text, recipient_org text,
            endpoint_url text, bundle jsonb, deadline timestamptz, consents jsonb, request jsonb)`,
    [
      JSON.stringify(
        jobs.map((job) => ({
          id: job.id,
          task_id: job.taskId,
          sender_org: job.senderOrg,
          recipient_org: job.recipientOrg,
          endpoint_url: job.endpointUrl,
          bundle: job.bundle,
          deadline: job.deadline,
          consents: job.consents,
          request: job.request,
        })),
      ),
    ],
  );
}

/**
 * Claims up to a batch of due jobs. SKIP LOCKED lets several processes claim side by side without taking the
 * same job; the lease (next_attempt_at moved forward) returns a job to the pool if its claimer dies.
 */
export function claimJobs<R>(
  db: Queryable,
  batchSize: number,
  leaseMs: number,
  leaseId: string,
): Promise<ClaimedJob<R>[]> {
  return db.query<ClaimedJob<R>>(
    `UPDATE delivery_jobs SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2::float8 / 1000),
            lease_id = $3, updated_at = now()
     WHERE id IN (SELECT id FROM delivery_jobs WHERE status = 'pending' AND next_attempt_at <= now()
                  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING id, task_id, sender_org, recipient_org, endpoint_url, bundle, attempts, deadline, request, lease_id`,
    [batchSize, leaseMs, leaseId],
  );
}

/** Moves the lease of a job forward, while this claim still holds it. */
export async function renewLease(db: Queryable, job: ClaimedJob, leaseMs: number): Promise<void> {
  await db.query(
    `UPDATE delivery_jobs SET next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
     WHERE id = $1 AND lease_id = $2 AND status = 'pending'`,
    [job.id, job.lease_id, leaseMs],
  );
}

/** Records deliveries and deletes their payloads; returns the ids that were still pending (the others are left as they are). */
export async function markDeliveredAll(tx: Queryable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx.query<{ id: string }>(
    `UPDATE delivery_jobs SET status = 'delivered', bundle = NULL, request = NULL, lease_id = NULL, last_error = NULL,
            delivered_at = now(), updated_at = now()
     WHERE id = ANY($1::text[]) AND status = 'pending' RETURNING id`,
    [ids],
  );
  return new Set(rows.map((r) => r.id));
}

// Only while this claim still holds the job: a worker whose lease was taken over leaves it to the new holder.
const HELD = `WHERE id = $1 AND status = 'pending' AND lease_id = $3 RETURNING id`;

/** Gives the job up (payload deleted); false when this claim no longer holds it. */
export async function markFailed(tx: Queryable, job: ClaimedJob, error: string): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE delivery_jobs SET status = 'failed', bundle = NULL, request = NULL, lease_id = NULL, last_error = $2, updated_at = now() ${HELD}`,
    [job.id, error, job.lease_id],
  );
  return rows.length > 0;
}

/** Releases the claim and makes the job due again after a wait; false when this claim no longer holds it. */
export async function postpone(
  tx: Queryable,
  job: ClaimedJob,
  error: string,
  waitMs: number,
): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE delivery_jobs SET last_error = $2, lease_id = NULL, next_attempt_at = now() + make_interval(secs => $4::float8 / 1000), updated_at = now() ${HELD}`,
    [job.id, error, job.lease_id, waitMs],
  );
  return rows.length > 0;
}

/** Cancels a job that was not delivered yet (payload deleted); false when it was no longer pending. */
export async function markCancelled(tx: Queryable, id: string, reason: string): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE delivery_jobs SET status = 'cancelled', bundle = NULL, request = NULL, last_error = $2, updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING id`,
    [id, reason],
  );
  return rows.length > 0;
}

/** The pending jobs whose decision rested on this Consent, locked for the caller's transaction. */
export function pendingJobsResting(tx: Queryable, consentRef: string): Promise<JobRef[]> {
  return tx.query<JobRef>(
    `SELECT id, task_id, sender_org, recipient_org FROM delivery_jobs WHERE status = 'pending' AND $1 = ANY(consents) FOR UPDATE`,
    [consentRef],
  );
}
