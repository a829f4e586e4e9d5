// The delivery worker: claims jobs from the outbox and posts their Bundles to the recipient's FHIR endpoint.
import type { Bundle } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import type { Logger } from 'pino';
import { buildAuditEvent } from '../audit/audit-event.js';
import { appendAudit } from '../audit/chain.js';
import type { Database } from '../store/database.js';
import { taskOutput, updateTask } from './tasks.js';

export interface DeliveryOptions {
  pollMs: number;
  retryBaseMs: number;
  timeoutMs: number;
  batchSize?: number;
}

interface ClaimedJob {
  id: string;
  task_id: string;
  sender_org: string;
  recipient_org: string;
  endpoint_url: string;
  bundle: Bundle | null;
  attempts: number;
  deadline: Date;
}

/** Backoff before attempt n+1: exponential from the base, capped at an hour, with full jitter on the upper half. */
export function backoffMs(attempts: number, baseMs: number): number {
  const ceiling = Math.min(baseMs * 2 ** Math.max(attempts - 1, 0), 3_600_000);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly opts: DeliveryOptions,
  ) {}

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

  /** Claims due jobs and delivers them; returns how many were attempted. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const jobs = await this.claim();
      if (jobs.length === 0) return total;
      total += jobs.length;
      await Promise.all(jobs.map((job) => this.deliver(job)));
    }
  }

  /**
   * Claims up to a batch of due jobs. SKIP LOCKED lets several processes claim side by side without taking the
   * same job; the lease (next_attempt_at moved forward) returns a job to the pool if its claimer dies.
   */
  private async claim(): Promise<ClaimedJob[]> {
    const leaseMs = this.opts.timeoutMs * 3;
    return this.db.query<ClaimedJob>(
      `UPDATE delivery_jobs SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2::float8 / 1000), updated_at = now()
       WHERE id IN (SELECT id FROM delivery_jobs WHERE status = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, task_id, sender_org, recipient_org, endpoint_url, bundle, attempts, deadline`,
      [this.opts.batchSize ?? 20, leaseMs],
    );
  }

  private async deliver(job: ClaimedJob): Promise<void> {
    if (!job.bundle) return;
    if (job.attempts === 1) {
      await this.db.transaction((tx) =>
        updateTask(tx, job.task_id, 'in-progress', [taskOutput('attempts', { valueInteger: 1 })]),
      );
    }
    const identifier = job.bundle.identifier;
    let response: string;
    try {
      const client = new Client({ baseUrl: job.endpoint_url });
      const created = (await client.create({
        resourceType: 'Bundle',
        body: job.bundle as unknown as Record<string, unknown> & { resourceType: string },
        options: {
          headers: identifier
            ? { 'If-None-Exist': `identifier=${identifier.system}|${identifier.value}` }
            : {},
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        },
      })) as { id?: string } | undefined;
      response = `accepted by ${job.endpoint_url}${created?.id ? ` as Bundle/${created.id}` : ''}`;
    } catch (err) {
      await this.failed(job, describeError(err));
      return;
    }
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE delivery_jobs SET status = 'delivered', bundle = NULL, last_error = NULL, updated_at = now() WHERE id = $1`,
        [job.id],
      );
      await updateTask(tx, job.task_id, 'completed', [
        taskOutput('attempts', { valueInteger: job.attempts }),
        taskOutput('recipient-response', { valueString: response }),
      ]);
      await this.auditDelivery(
        tx,
        job,
        'success',
        `Delivered to ${job.recipient_org} after ${job.attempts} attempt(s): ${response}`,
      );
    });
    this.logger.info({ job: job.id, task: job.task_id, attempts: job.attempts }, 'delivered');
  }

  private async failed(job: ClaimedJob, error: string): Promise<void> {
    const wait = backoffMs(job.attempts, this.opts.retryBaseMs);
    const giveUp = Date.now() + wait > new Date(job.deadline).getTime();
    await this.db.transaction(async (tx) => {
      if (giveUp) {
        await tx.query(
          `UPDATE delivery_jobs SET status = 'failed', bundle = NULL, last_error = $2, updated_at = now() WHERE id = $1`,
          [job.id, error],
        );
        await updateTask(
          tx,
          job.task_id,
          'failed',
          [
            taskOutput('attempts', { valueInteger: job.attempts }),
            taskOutput('recipient-response', { valueString: error }),
          ],
          'The recipient did not accept the data before the delivery deadline',
        );
        await this.auditDelivery(
          tx,
          job,
          'error',
          `Delivery to ${job.recipient_org} failed after ${job.attempts} attempt(s): ${error}`,
        );
      } else {
        await tx.query(
          `UPDATE delivery_jobs SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3::float8 / 1000), updated_at = now() WHERE id = $1`,
          [job.id, error, wait],
        );
        await updateTask(tx, job.task_id, 'in-progress', [
          taskOutput('attempts', { valueInteger: job.attempts }),
          taskOutput('recipient-response', { valueString: error }),
        ]);
      }
    });
    this.logger.warn({ job: job.id, attempts: job.attempts, error, giveUp }, 'delivery attempt failed');
  }

  private async auditDelivery(
    tx: Parameters<typeof appendAudit>[0],
    job: ClaimedJob,
    outcome: 'success' | 'error',
    description: string,
  ) {
    const { event, index } = buildAuditEvent({
      subtype: 'delivery',
      outcome,
      description,
      requester: { org: job.sender_org, clientId: 'ketenpoort-delivery' },
      recipientOrg: job.recipient_org,
      entities: [{ reference: `Task/${job.task_id}` }],
    });
    await appendAudit(tx, event, index);
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
