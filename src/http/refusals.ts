// Every refused request (401, 403, 404; and 400, 409, 412, 422, 5xx of an identified client) leaves an AuditEvent: each one of an identified client, grouped per source
// for requests without a valid token, so that an unauthenticated flood cannot fill the log without bound.
import type { Request, Response } from 'express';
import type { AuditEvent } from '@medplum/fhirtypes';
import { buildAuditEvent, type AuditInput } from '../audit/audit-event.js';
import type { AuditPerson } from '../audit/persons.js';
import type { AuditWriter } from '../audit/writer.js';
import { DECISION_REASON_SYSTEM } from '../consent/constants.js';
import { isValidBsn } from '../mappings/bsn.js';
import { BSN_SYSTEM } from '../store/resources.js';
import type { Principal } from '../auth/access.js';
import { OAuthError } from '../auth/auth.js';
import { FhirError } from '../fhir/outcomes.js';

/** Refusals at the edge; a 403 that carries any other decision reason is a decision, audited where it was made. */
const EDGE_REASONS = new Set(['role-not-allowed', 'insufficient-scope']);
/** Resource types whose URL names a person's data (the id is resolved to the persons when the event is written). */
const PERSON_TYPES = new Set(['Patient', 'RelatedPerson', 'Group', 'Consent', 'Task', 'Communication']);
const ACTION: Record<string, AuditEvent['action']> = {
  GET: 'R',
  HEAD: 'R',
  POST: 'C',
  PUT: 'U',
  PATCH: 'U',
  DELETE: 'D',
};

export interface RefusalOptions {
  /** Length of the window in which the refusals of one unauthenticated source are grouped. */
  windowMs?: number;
  /** Sources grouped at once; the refusals of further sources are counted together. */
  maxSources?: number;
  now?: () => number;
}

interface Group {
  since: number;
  first: string;
  further: number;
  statuses: Set<number>;
}

/** The status of an error that refuses a request, or undefined when it is no refusal (or was audited already). */
export function refusalStatus(err: unknown, principal: Principal | undefined): number | undefined {
  const status = err instanceof OAuthError || err instanceof FhirError ? err.status : undefined;
  if (status === 401) return status;
  if (status === 404) return principal ? status : undefined;
  // An identified client's request refused as invalid, conflicting or failed is on record too, for whom it named.
  if (principal && status !== undefined && status !== 403 && status >= 400) return status;
  if (status !== 403) return undefined;
  if (err instanceof FhirError) {
    const codes = (err.outcome.issue ?? []).flatMap((i) =>
      (i.details?.coding ?? []).filter((c) => c.system === DECISION_REASON_SYSTEM).map((c) => c.code ?? ''),
    );
    if (codes.length > 0 && codes.every((c) => !EDGE_REASONS.has(c))) return undefined;
  }
  return status;
}

/** Whom a refused request concerned: the person-index resource or Task in its URL, a BSN it searched or named. */
export function personsOfRequest(req: Request): AuditPerson[] {
  const persons: AuditPerson[] = [];
  const path = req.originalUrl.split('?')[0]!;
  const [, type, id] = /^\/fhir\/([A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/|$)/.exec(path) ?? [];
  if (type && id && PERSON_TYPES.has(type) && !id.startsWith('$'))
    persons.push({ reference: `${type}/${id}` });
  const asked = [req.query.identifier, req.query['patient:identifier']].flat();
  const named = (req.body as { resourceType?: unknown; parameter?: unknown } | undefined)?.parameter;
  if (Array.isArray(named)) {
    for (const p of named as { name?: unknown; valueIdentifier?: { system?: unknown; value?: unknown } }[])
      if (p?.name === 'subject' && p.valueIdentifier?.system === BSN_SYSTEM)
        asked.push(`|${String(p.valueIdentifier.value)}`);
  }
  for (const value of asked) {
    if (typeof value !== 'string') continue;
    const bsn = value.split('|').pop() ?? '';
    if ((value.startsWith(BSN_SYSTEM) || value.startsWith('|')) && isValidBsn(bsn)) persons.push({ bsn });
  }
  return persons;
}

/**
 * Records refusals. A client with a valid token is accountable for what it asks: each of its refusals is one event,
 * attributed to the persons it concerned. Without a valid token the first refusal of a source (IP address) in a
 * window is recorded at once and the rest of that window as one summarising event; at most `maxSources` sources are
 * kept apart per window, the others are counted together. No event stores a request body or a query string of an
 * unauthenticated request.
 */
export class RefusalLog {
  private readonly groups = new Map<string, Group>();
  private readonly windowMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly append: (input: AuditInput) => Promise<unknown>,
    opts: RefusalOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxSources = opts.maxSources ?? 256;
    this.now = opts.now ?? Date.now;
  }

  /** Records one refusal; resolves once its event (if it gets one now) is written. Never throws. */
  async record(req: Request, res: Response, err: unknown): Promise<void> {
    const principal = res.locals.principal as Principal | undefined;
    const status = refusalStatus(err, principal);
    if (status === undefined) return;
    const reason = err instanceof Error ? err.message : '';
    const what = `${req.method} ${req.originalUrl.split('?')[0]!.slice(0, 200)}`;
    const base = {
      subtype: 'refusal' as const,
      outcome: 'denied' as const,
      action: ACTION[req.method] ?? 'E',
      details: {
        status: String(status),
        request: what,
        requestId: String(res.getHeader('X-Request-Id') ?? ''),
      },
    };
    try {
      if (principal) {
        await this.append({
          ...base,
          description: `Refused (${status}) ${what}: ${reason}`,
          requester: { org: principal.org, clientId: principal.clientId },
          patients: personsOfRequest(req),
        });
        return;
      }
      await this.unauthenticated(req.ip ?? 'unknown', status, what, reason, base);
    } catch (e) {
      req.log?.error({ err: e }, 'a refusal could not be recorded');
    }
  }

  private async unauthenticated(
    source: string,
    status: number,
    what: string,
    reason: string,
    base: Omit<AuditInput, 'description' | 'requester'>,
  ): Promise<void> {
    const now = this.now();
    this.startSweeping();
    await this.flush(now);
    const key = this.groups.has(source) || this.groups.size < this.maxSources ? source : '*';
    const group = this.groups.get(key);
    if (group) {
      group.further++;
      group.statuses.add(status);
      return;
    }
    this.groups.set(key, { since: now, first: what, further: 0, statuses: new Set([status]) });
    await this.append({
      ...base,
      description: `Refused (${status}) ${what} without a valid token from ${key === '*' ? 'one of many sources' : source}: ${reason}`,
      requester: { org: '', clientId: 'unauthenticated', network: key === '*' ? undefined : source },
    });
  }

  /** Writes the summaries of windows that have ended. */
  async flush(now = this.now(), all = false): Promise<void> {
    for (const [key, g] of [...this.groups]) {
      if (!all && now - g.since < this.windowMs) continue;
      this.groups.delete(key);
      if (g.further === 0) continue;
      await this.append({
        subtype: 'refusal',
        outcome: 'denied',
        description: `${g.further} further refusals (${[...g.statuses].join(', ')}) without a valid token from ${key === '*' ? 'further sources' : key} between ${new Date(g.since).toISOString()} and ${new Date(Math.min(now, g.since + this.windowMs)).toISOString()}`,
        requester: { org: '', clientId: 'unauthenticated', network: key === '*' ? undefined : key },
        details: { count: String(g.further), since: new Date(g.since).toISOString() },
      });
    }
  }

  private startSweeping(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.flush().catch(() => undefined);
      if (this.groups.size === 0) this.stop();
    }, this.windowMs);
    this.sweeper.unref();
  }

  /** Stops the timer (the pending summaries are written by flush(undefined, true)). */
  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** The refusal log of a gateway: events go through its group-commit audit writer. */
export function refusalLog(writer: AuditWriter, opts?: RefusalOptions): RefusalLog {
  return new RefusalLog((input) => writer.append(buildAuditEvent(input)), opts);
}
