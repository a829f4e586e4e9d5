// The audit log's search parameters as SQL over its index columns; dates as FHIR ranges in Dutch (Amsterdam) time.
import { BSN_SYSTEM } from '../store/resources.js';

export class AuditSearchError extends Error {}

export const AUDIT_SEARCH: Record<string, string> = {
  'patient:identifier': 'token',
  date: 'date',
  agent: 'reference',
  outcome: 'token',
  purpose: 'token',
  'legal-basis': 'token',
  subtype: 'token',
};

const DATE =
  /^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

const OFFSET = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Amsterdam', timeZoneName: 'longOffset' });

/** Minutes Amsterdam is ahead of UTC at an instant (60 in winter, 120 in summer). */
function amsterdamOffset(at: number): number {
  const name = OFFSET.formatToParts(new Date(at)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** The instant of a wall-clock time in Amsterdam (fields as UTC milliseconds of that wall-clock time). */
function amsterdamInstant(wallClock: number): number {
  let at = wallClock - amsterdamOffset(wallClock) * 60_000;
  // Once more with the offset at the first guess: right across a change of daylight-saving time.
  at = wallClock - amsterdamOffset(at) * 60_000;
  return at;
}

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * The range [start, end) a FHIR date search value stands for: `2026` is the whole year, `2026-11` the whole month,
 * `2026-11-03` the day — in Amsterdam time — and a time its second (or fraction). Impossible dates are refused.
 */
export function dateRange(value: string): { prefix: string; start: Date; end: Date } {
  const m = DATE.exec(value);
  const refuse = (why: string) =>
    new AuditSearchError(
      `date "${value}" ${why}; zoekwaarde bijvoorbeeld ge2026-01-01, 2026-11 of lt2026-11-03`,
    );
  if (!m) throw refuse('is not a FHIR date search value');
  const [, prefix = 'eq', y, mo, d, h, mi, s, fraction, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (year < 1) throw refuse('has no year 0000');
  if (month < 1 || month > 12) throw refuse('names a month that does not exist');
  if (day < 1 || day > daysIn(year, month)) throw refuse('names a day that does not exist');
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59))
    throw refuse('names a time that does not exist');
  if (zone && zone !== 'Z' && (Number(zone.slice(1, 3)) > 14 || Number(zone.slice(4)) > 59))
    throw refuse('has a time zone that does not exist');
  const wall = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0, ms = 0) => {
    const t = new Date(0);
    t.setUTCFullYear(yy, mm - 1, dd);
    t.setUTCHours(hh, mn, ss, ms);
    return t.getTime();
  };
  if (h === undefined) {
    const [endY, endM, endD] =
      mo === undefined
        ? [year + 1, 1, 1]
        : d === undefined
          ? [month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1]
          : [year, month, day + 1];
    return {
      prefix,
      start: new Date(amsterdamInstant(wall(year, month, day))),
      end: new Date(amsterdamInstant(wall(endY, endM, endD))),
    };
  }
  const digits = fraction ? fraction.length - 1 : 0;
  const unit = s === undefined ? 60_000 : digits === 0 ? 1000 : Math.max(1, 10 ** (3 - Math.min(digits, 3)));
  const ms = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
  const local = wall(year, month, day, Number(h), Number(mi), Number(s ?? 0), ms);
  const start = !zone
    ? amsterdamInstant(local)
    : local -
      (zone === 'Z'
        ? 0
        : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000);
  return { prefix, start: new Date(start), end: new Date(start + unit) };
}

const YEAR_ONE = new Date('0001-01-01T00:00:00Z').getTime();

/** An instant as PostgreSQL reads it; beyond the years 1–9999 the range is open on that side. */
function sqlInstant(at: Date): string {
  if (at.getTime() < YEAR_ONE) return '-infinity';
  if (at.getUTCFullYear() > 9999) return 'infinity';
  return at.toISOString();
}

/** The BSN a `patient:identifier` value names (`<bsn-system>|<bsn>` or the bare number). */
function bsnOf(value: string): string {
  if (!value.includes('|')) return value;
  const [system, bsn] = value.split('|', 2);
  if (system && system !== BSN_SYSTEM)
    throw new AuditSearchError(`patient:identifier takes a BSN (${BSN_SYSTEM}|<BSN>), not ${system}`);
  return bsn ?? '';
}

/** An agent value as the log stores it: `Organization/<id>` (a full URL or a bare id is accepted too). */
function agentOf(value: string): string {
  const m = /(?:^|\/)(Organization\/[^/|?#]+)$/.exec(value);
  if (m) return m[1]!;
  if (/^[A-Za-z0-9.-]{1,64}$/.test(value)) return `Organization/${value}`;
  throw new AuditSearchError(`agent "${value}" is not an Organization reference (Organization/<id>)`);
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
        `Unknown search parameter "${name}"; supported: ${Object.keys(AUDIT_SEARCH).join(', ')}`,
      );
    const values = Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      if (typeof value !== 'string' || value === '' || value.includes('\0'))
        throw new AuditSearchError(`Search parameter "${name}" needs a value`);
      // A comma is an OR of values, as FHIR search has it.
      const alternatives = value.split(',');
      const or = alternatives.map((v) => {
        const token = v.includes('|') ? v.split('|')[1]! : v;
        switch (name) {
          case 'patient:identifier':
            return PERSON_SQL(p(bsnOf(v)));
          case 'date': {
            const { prefix, start, end } = dateRange(v);
            const s = () => `${p(sqlInstant(start))}::timestamptz`;
            const e = () => `${p(sqlInstant(end))}::timestamptz`;
            if (prefix === 'eq') return `(recorded >= ${s()} AND recorded < ${e()})`;
            if (prefix === 'ne') return `(recorded < ${s()} OR recorded >= ${e()})`;
            if (prefix === 'gt' || prefix === 'sa') return `recorded >= ${e()}`;
            if (prefix === 'ge') return `recorded >= ${s()}`;
            if (prefix === 'lt' || prefix === 'eb') return `recorded < ${s()}`;
            return `recorded < ${e()}`;
          }
          case 'agent': {
            const ref = p(agentOf(v));
            return `(agent_org = ${ref} OR recipient_org = ${ref})`;
          }
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
 * Paging and order of an audit search: `_count` a whole number from 1 (capped at 500, default 50), `_offset` a whole
 * number, `_sort` `date` (oldest first) or `-date` (newest first, the default). Anything else is refused.
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
      throw new AuditSearchError(`${name} may be given once / ${name} mag maar één keer voorkomen`);
    return v;
  };
  const whole = (name: string, fallback: number, min: number): number => {
    const v = one(name);
    if (v === undefined) return fallback;
    if (!/^\d{1,9}$/.test(v) || Number(v) < min)
      throw new AuditSearchError(
        `${name} "${v}" is not a whole number of at least ${min} / ${name} moet een geheel getal van minstens ${min} zijn`,
      );
    return Number(v);
  };
  const sort = one('_sort') ?? '-date';
  const order = AUDIT_SORTS[sort];
  if (!order)
    throw new AuditSearchError(
      `_sort "${sort}" is not supported; use date or -date / sorteer op date of -date`,
    );
  return {
    count: Math.min(whole('_count', 50, 1), AUDIT_MAX_COUNT),
    offset: whole('_offset', 0, 0),
    order,
  };
}
