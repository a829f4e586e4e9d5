// The audit log's search parameters as SQL over its index columns; dates as FHIR ranges in Dutch (Amsterdam) time.
import type { AuditEvent } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcomes.js';
import type { Queryable } from '../store/database.js';
import { BSN_SYSTEM } from '../store/resources.js';
import { DateSearchError, dateCondition } from '../store/date-search.js';

export { dateRange } from '../store/date-search.js';

/** A search value the log cannot be searched by (a 400 at the edge). */
export class AuditSearchError extends DateSearchError {}

export const AUDIT_SEARCH: Record<string, string> = {
  'patient:identifier': 'token',
  date: 'date',
  agent: 'reference',
  sender: 'reference',
  recipient: 'reference',
  entity: 'reference',
  outcome: 'token',
  purpose: 'token',
  'legal-basis': 'token',
  subtype: 'token',
};

/** The BSN a `patient:identifier` value names (`<bsn-system>|<bsn>` or the bare number). */
function bsnOf(value: string): string {
  if (!value.includes('|')) return value;
  const [system, bsn] = value.split('|', 2);
  if (system && system !== BSN_SYSTEM)
    throw new AuditSearchError(
      `patient:identifier verwacht een BSN (${BSN_SYSTEM}|<BSN>), geen ${system} / patient:identifier takes a BSN (${BSN_SYSTEM}|<BSN>), not ${system}`,
    );
  return bsn ?? '';
}

/** An agent value as the log stores it: `Organization/<id>` (a full URL or a bare id is accepted too). */
function agentOf(value: string, name = 'agent'): string {
  const m = /(?:^|\/)(Organization\/[^/|?#]+)$/.exec(value);
  if (m) return m[1]!;
  if (/^[A-Za-z0-9.-]{1,64}$/.test(value)) return `Organization/${value}`;
  throw new AuditSearchError(
    `${name} "${value}" is geen verwijzing naar een Organization (Organization/<id>) / ${name} "${value}" is not an Organization reference (Organization/<id>)`,
  );
}

/** An entity value: a Task, Consent or other resource reference (`Task/<id>`), for following one exchange. */
function entityOf(value: string): string {
  const m = /(?:^|\/)([A-Z][A-Za-z]{1,40}\/[A-Za-z0-9.-]{1,64})$/.exec(value);
  if (!m)
    throw new AuditSearchError(
      `entity "${value}" is geen verwijzing naar een resource (Task/<id>) / entity "${value}" is not a resource reference (Task/<id>)`,
    );
  return m[1]!;
}

/** The events that concern a person: the first person named (`patient`) or any of several (`patients`). */
export const PERSON_SQL = (param: string) => `(patient = ${param} OR patients @> ARRAY[${param}]::text[])`;

/**
 * Translates the search parameters into SQL over the audit index columns. Every value is checked here, so a search
 * that the database would refuse is a clear AuditSearchError (400) before anything is read or streamed.
 */
export function auditWhere(query: Record<string, unknown>): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  for (const [name, raw] of Object.entries(query)) {
    if (name.startsWith('_')) continue;
    if (!(name in AUDIT_SEARCH))
      throw new AuditSearchError(
        `Onbekende zoekparameter "${name}"; wel ondersteund: ${Object.keys(AUDIT_SEARCH).join(', ')} / Unknown search parameter "${name}"; supported: ${Object.keys(AUDIT_SEARCH).join(', ')}`,
      );
    const values = Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      if (typeof value !== 'string' || value === '' || value.includes('\0'))
        throw new AuditSearchError(
          `Zoekparameter "${name}" heeft een waarde nodig / Search parameter "${name}" needs a value`,
        );
      // A comma is an OR of values, as FHIR search has it.
      const alternatives = value.split(',');
      const or = alternatives.map((v) => {
        const token = v.includes('|') ? v.split('|')[1]! : v;
        switch (name) {
          case 'patient:identifier':
            return PERSON_SQL(p(bsnOf(v)));
          case 'date':
            return dateCondition('recorded', v, p);
          case 'agent': {
            const ref = p(agentOf(v));
            return `(agent_org = ${ref} OR recipient_org = ${ref})`;
          }
          case 'sender':
            return `agent_org = ${p(agentOf(v, name))}`;
          case 'recipient':
            return `recipient_org = ${p(agentOf(v, name))}`;
          case 'entity':
            return `(content::jsonb)->'entity' @> ${p(JSON.stringify([{ what: { reference: entityOf(v) } }]))}::jsonb`;
          case 'outcome':
            return `outcome = ${p({ '0': 'success', '4': 'denied', '8': 'error' }[token] ?? token)}`;
          case 'purpose':
            return `purpose = ${p(token)}`;
          case 'legal-basis':
            return `legal_basis = ${p(token)}`;
          default:
            return `subtype = ${p(token)}`;
        }
      });
      clauses.push(or.length === 1 ? or[0]! : `(${or.join(' OR ')})`);
    }
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** The most events one page of the audit search holds; a larger `_count` is served as this many. */
export const AUDIT_MAX_COUNT = 500;
const AUDIT_SORTS: Record<string, 'ASC' | 'DESC'> = { date: 'ASC', '-date': 'DESC' };

/**
 * Paging and order of an audit search: `_count` a whole number from 0 (capped at 500, default 50; 0 asks for the total
 * alone; `_summary=count` is the same), `_offset` a whole number, `_sort` `date` (oldest first) or `-date` (newest first,
 * the default). Anything else is refused.
 */
export function auditPaging(query: Record<string, unknown>): {
  count: number;
  offset: number;
  order: 'ASC' | 'DESC';
} {
  const one = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string')
      throw new AuditSearchError(`${name} mag maar één keer voorkomen / ${name} may be given once`);
    return v;
  };
  const whole = (name: string, fallback: number, min: number): number => {
    const v = one(name);
    if (v === undefined) return fallback;
    if (!/^\d{1,9}$/.test(v) || Number(v) < min)
      throw new AuditSearchError(
        `${name} "${v}" moet een geheel getal van minstens ${min} zijn / ${name} "${v}" is not a whole number of at least ${min}`,
      );
    return Number(v);
  };
  const sort = one('_sort') ?? '-date';
  const order = AUDIT_SORTS[sort];
  if (!order)
    throw new AuditSearchError(
      `_sort "${sort}" kan niet; sorteer op date of -date / _sort "${sort}" is not supported; use date or -date`,
    );
  const summary = one('_summary');
  if (summary !== undefined && summary !== 'count')
    throw new AuditSearchError(
      '_summary kent alleen count (het aantal, zonder entries) / _summary takes only count (the total, without entries)',
    );
  return {
    count: summary === 'count' ? 0 : Math.min(whole('_count', 50, 0), AUDIT_MAX_COUNT),
    offset: whole('_offset', 0, 0),
    order,
  };
}

/** An AuditSearchError (or a date the log cannot be searched by) as a 400 OperationOutcome. */
function refusedAsBadRequest<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof DateSearchError) throw badRequest(err.message);
    throw err;
  }
}

/** One page of the audit search, with the total it is a page of; a value the log cannot be searched by is a 400. */
export async function searchAuditEvents(
  db: Queryable,
  query: Record<string, unknown>,
): Promise<{ count: number; offset: number; total: number; events: AuditEvent[] }> {
  const { count, offset, order } = refusedAsBadRequest(() => auditPaging(query));
  const { where, params } = refusedAsBadRequest(() => auditWhere(query));
  const [totalRow] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_events ${where}`,
    params,
  );
  // `_count=0` asks for the total alone: no page to read.
  const rows =
    count === 0
      ? []
      : await db.query<{ content: AuditEvent }>(
          `SELECT content FROM audit_events ${where} ORDER BY seq ${order} LIMIT ${count} OFFSET ${offset}`,
          params,
        );
  return { count, offset, total: totalRow?.n ?? 0, events: rows.map((r) => r.content) };
}

export async function readAuditEvent(db: Queryable, id: string): Promise<AuditEvent | undefined> {
  const rows = await db.query<{ content: AuditEvent }>('SELECT content FROM audit_events WHERE id = $1', [
    id,
  ]);
  return rows[0]?.content;
}

/** The most events one page of an export holds. */
export const AUDIT_EXPORT_PAGE = 1000;

/** One event of an export, with the index columns the CSV shows. */
export interface AuditRow {
  seq: number;
  recorded: Date;
  subtype: string;
  action: string;
  outcome: string;
  patient: string | null;
  patients: string[] | null;
  agent_org: string | null;
  recipient_org: string | null;
  purpose: string | null;
  legal_basis: string | null;
  content: AuditEvent;
}

/**
 * The pages of an export of the events the filters select, each after a sequence number: streamed in pages, memory
 * stays flat however large the log is. The filters are checked at once (a 400), before any page is read.
 */
export function auditExportPages(
  db: Queryable,
  filters: Record<string, unknown>,
): (after: number) => Promise<AuditRow[]> {
  const { where, params } = refusedAsBadRequest(() => auditWhere(filters));
  return (after) =>
    db.query<AuditRow>(
      `SELECT seq::int AS seq, recorded, subtype, action, outcome, patient, patients, agent_org, recipient_org, purpose, legal_basis, content
       FROM audit_events ${where ? `${where} AND` : 'WHERE'} seq > $${params.length + 1} ORDER BY seq LIMIT ${AUDIT_EXPORT_PAGE}`,
      [...params, after],
    );
}
