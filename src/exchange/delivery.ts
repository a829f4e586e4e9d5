// The delivery worker: claims jobs from the outbox and posts their Bundles to the recipient's FHIR endpoint.
import { randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import type { Logger } from 'pino';
import type { DecisionRequest } from '../consent/types.js';
import { isConnectionError, StorageUnavailableError, type Database } from '../store/database.js';
import {
  claimJobs,
  markFailed,
  postpone,
  renewLease,
  type ClaimedJob as OutboxJob,
} from '../store/outbox.js';
import { GroupCommit } from '../store/group-commit.js';
import type { Principal } from '../auth/access.js';
import type { Subject } from '../person-index/facts.js';
import { cancelJobs, notifySender, recordDeliveries, recordJobs, type Delivered } from './job-records.js';
import { attemptOutputs, taskOutput, updateTasks } from './tasks.js';

export interface DeliveryOptions {
  pollMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  batchSize?: number;
  /**
   * How long a claim holds a job (default three agency timeouts). The claimer renews it every third of that while it
   * works on the job; a job whose claimer died returns to the pool when the lease runs out.
   */
  leaseMs?: number;
  /** How long a first attempt may take before its Task shows in-progress (default 250 ms). */
  inProgressAfterMs?: number;
  /** Decides the job again just before it is sent; a deny cancels it (consent withdrawn, basis switched off). */
  recheck?: (stored: StoredRequest) => Promise<{ decision: 'permit' | 'deny'; explanation: string }>;
}

/** What a job keeps of the request that produced it, for the re-check at send time. */
export interface StoredRequest {
  request: DecisionRequest;
  subject: Subject;
  principal: Principal;
}

type ClaimedJob = OutboxJob<StoredRequest>;

/** Backoff before attempt n+1: exponential from the base, capped, with jitter over the upper half. */
export function backoffMs(attempts: number, baseMs: number, maxMs = 3_600_000): number {
  const ceiling = Math.min(baseMs * 2 ** Math.max(attempts - 1, 0), maxMs);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly leaseMs: number;
  /** The first attempts of the jobs started in one turn: their Tasks set to in-progress in one transaction. */
  private readonly starts: GroupCommit<ClaimedJob, undefined>;
  /** The deliveries of one turn, recorded in one transaction (job, Task, audit). */
  private readonly deliveries: GroupCommit<Delivered, boolean>;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly opts: DeliveryOptions,
  ) {
    this.leaseMs = opts.leaseMs ?? opts.timeoutMs * 3;
    this.starts = new GroupCommit(db, async (tx, jobs) => {
      await updateTasks(
        tx,
        jobs.map((job) => ({
          taskId: job.task_id,
          status: 'in-progress',
          outputs: [taskOutput('attempts', { valueInteger: 1 })],
        })),
      );
      return jobs.map(() => undefined);
    });
    this.deliveries = new GroupCommit(db, recordDeliveries);
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Asks for a run now (after an exchange was accepted). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.running = this.runOnce()
      .then(() => undefined)
      .catch((err: unknown) => this.logger.error({ err }, 'delivery run failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        } else this.schedule();
      });
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
  }

  /**
   * Claims due jobs and delivers them, keeping up to a batch of them under way: as jobs finish, more are claimed, so
   * that one slow recipient does not hold up the rest. Returns how many were attempted.
   */
  async runOnce(): Promise<number> {
    const most = this.opts.batchSize ?? 50;
    const underWay = new Set<Promise<void>>();
    let total = 0;
    for (;;) {
      const jobs = underWay.size < most ? await this.claim(most - underWay.size) : [];
      for (const job of jobs) {
        const done: Promise<void> = this.deliver(job).finally(() => underWay.delete(done));
        underWay.add(done);
      }
      total += jobs.length;
      if (underWay.size === 0) return total;
      if (jobs.length === 0 || underWay.size >= most) await Promise.race(underWay);
    }
  }

  /** Claims up to `count` due jobs, under a lease of their own (src/store/outbox.ts). */
  private claim(count: number): Promise<ClaimedJob[]> {
    return claimJobs<StoredRequest>(this.db, count, this.leaseMs, randomUUID());
  }

  /**
   * Renews the job's lease every third of its length while this worker holds it, so that a slow re-check or a slow
   * recipient does not let another process claim the job and post it a second time.
   */
  private keepLease(job: ClaimedJob): () => void {
    let renewing = false;
    const timer = setInterval(
      () => {
        if (renewing) return;
        renewing = true;
        renewLease(this.db, job, this.leaseMs)
          .catch((err: unknown) => this.logger.warn({ err, job: job.id }, 'could not renew a delivery lease'))
          .finally(() => (renewing = false));
      },
      Math.max(Math.floor(this.leaseMs / 3), 10),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Works on one claimed job under its lease. Nothing here throws: a step that cannot reach the database leaves the
   * job to its lease, which returns it to the pool; it is never cancelled or failed for that.
   */
  private async deliver(job: ClaimedJob): Promise<void> {
    if (!job.bundle) return;
    const release = this.keepLease(job);
    try {
      await this.attempt(job, job.bundle);
    } catch (err) {
      this.logger.warn(
        { err, job: job.id },
        'delivery attempt interrupted; the job returns when its lease ends',
      );
    } finally {
      release();
    }
  }

  private async attempt(job: ClaimedJob, bundle: Bundle): Promise<void> {
    if (job.request && this.opts.recheck) {
      let now: Awaited<ReturnType<NonNullable<DeliveryOptions['recheck']>>>;
      try {
        now = await this.opts.recheck(job.request);
      } catch (err) {
        // A re-check that could not run (storage unavailable, a failing query) says nothing about the permission:
        // the job waits and is decided again; only a real deny cancels it.
        await this.retryLater(job, `the re-check at send time could not run: ${(err as Error).message}`);
        return;
      }
      if (now.decision === 'deny') {
        await this.db.transaction((tx) =>
          cancelJobs(
            tx,
            [job],
            `Cancelled at send time: the exchange is no longer permitted. ${now.explanation}`,
            new Date(),
          ),
        );
        return;
      }
    }
    // A first attempt that takes a while shows as in-progress; one the recipient answers at once goes from accepted
    // straight to its outcome (one Task version less per exchange).
    const started = job.attempts === 1 ? this.inProgressUnlessQuick(job) : undefined;
    const identifier = bundle.identifier;
    let response: string | undefined;
    let error: string | undefined;
    try {
      const client = new Client({ baseUrl: job.endpoint_url });
      // return=minimal: the recipient need not send the Bundle back; where it was stored comes in Location.
      const created = (await client.create({
        resourceType: 'Bundle',
        body: bundle as unknown as Record<string, unknown> & { resourceType: string },
        options: {
          headers: {
            Prefer: 'return=minimal',
            ...(identifier ? { 'If-None-Exist': `identifier=${identifier.system}|${identifier.value}` } : {}),
          },
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        },
      })) as { id?: string } | undefined;
      const location = created
        ? Client.httpFor(created as never)?.response?.headers?.get('location')
        : undefined;
      const stored = created?.id ? `Bundle/${created.id}` : location;
      response = `accepted by ${job.endpoint_url}${stored ? ` as ${stored}` : ''}`;
    } catch (err) {
      error = describeError(err);
    }
    // The in-progress write, if it started, lands before the outcome, never after it.
    await started?.();
    if (response === undefined) {
      await this.failed(job, error ?? 'unknown error');
      return;
    }
    // The recipient has the Bundle: record that, retrying while storage is away rather than letting the lease run out
    // and the job be posted again. Whoever records first wins; a second recording of one job changes nothing.
    await this.untilStored(job, () => this.deliveries.add({ job, response }).then(() => undefined));
    this.logger.info({ job: job.id, task: job.task_id, attempts: job.attempts }, 'delivered');
  }

  /**
   * Sets the job's Task to in-progress if the first attempt is not over within `inProgressAfterMs`; the returned
   * function stops the timer and waits for that write, if it began. The write is informational: when it fails, the
   * outcome is still recorded.
   */
  private inProgressUnlessQuick(job: ClaimedJob): () => Promise<void> {
    let write: Promise<void> | undefined;
    const timer = setTimeout(() => {
      write = this.starts.add(job).then(
        () => undefined,
        (err: unknown) => this.logger.warn({ err, job: job.id }, 'could not set a delivery Task in progress'),
      );
    }, this.opts.inProgressAfterMs ?? 250);
    return async () => {
      clearTimeout(timer);
      await write;
    };
  }

  /** The recipient did not take the Bundle: retry after a backoff, or give up at the deadline. */
  private failed(job: ClaimedJob, error: string): Promise<void> {
    return this.notNow(job, error, 'recipient');
  }

  /** The re-check could not run: the job waits like a failed attempt, and the Task says nothing of the recipient. */
  private retryLater(job: ClaimedJob, error: string): Promise<void> {
    return this.notNow(job, error, 'recheck');
  }

  private async notNow(job: ClaimedJob, error: string, cause: 'recipient' | 'recheck'): Promise<void> {
    const wait = backoffMs(job.attempts, this.opts.retryBaseMs, this.opts.retryMaxMs);
    const giveUp = Date.now() + wait > new Date(job.deadline).getTime();
    await this.db.transaction(async (tx) => {
      // Only while this claim still holds the job: a worker whose lease was taken over leaves it to the new holder.
      if (giveUp) {
        if (!(await markFailed(tx, job, error))) return;
        await recordJobs(tx, [
          {
            job,
            change: {
              status: 'failed',
              outputs: attemptOutputs(job.attempts, error),
              statusReason:
                cause === 'recipient'
                  ? 'The recipient did not accept the data before the delivery deadline'
                  : 'The exchange could not be checked again before the delivery deadline',
            },
            outcome: 'error',
            description: `Delivery to ${job.recipient_org} failed after ${job.attempts} attempt(s): ${error}`,
          },
        ]);
        await notifySender(
          tx,
          job,
          `Delivery to ${job.recipient_org} failed after ${job.attempts} attempt(s): ${error}. Nothing was delivered; the data were deleted from the gateway.`,
          new Date(),
        );
      } else {
        if (!(await postpone(tx, job, error, wait)) || cause !== 'recipient') return;
        await updateTasks(tx, [
          {
            taskId: job.task_id,
            status: 'in-progress',
            outputs: attemptOutputs(job.attempts, error),
          },
        ]);
      }
    });
    this.logger.warn({ job: job.id, attempts: job.attempts, error, giveUp }, 'delivery attempt failed');
  }

  /**
   * Runs a write that records what already happened at the recipient until it is stored: while storage is
   * unavailable it waits and tries again (backing off up to two seconds), until the worker stops. Other errors are
   * tried a few times and then passed on.
   */
  private async untilStored(job: ClaimedJob, write: () => Promise<void>): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        return await write();
      } catch (err) {
        const storage = err instanceof StorageUnavailableError || isConnectionError(err);
        if (this.stopped || (!storage && tries >= 5)) throw err;
        this.logger.warn({ err, job: job.id, tries }, 'could not record a delivery yet; trying again');
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** (tries - 1), 2000)));
      }
    }
  }
}

function describeError(err: unknown): string {
  const e = err as {
    response?: { status?: number };
    name?: string;
    message?: string;
    cause?: { code?: string };
  };
  if (e.response?.status) return `HTTP ${e.response.status} from the recipient`;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'the recipient did not answer in time';
  return `the recipient could not be reached (${e.cause?.code ?? e.message ?? 'unknown error'})`;
}
