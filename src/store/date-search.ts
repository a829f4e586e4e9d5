// FHIR date search values (prefixes, partial dates as ranges, Amsterdam time unless a zone is given) as SQL
// conditions over a timestamptz column: one meaning of a date for every search the gateway serves.
import { amsterdamInstant, daysInMonth, endOfDate, startOfDate, wallClock } from '../time/amsterdam.js';

/** A date search value that is not one (a 400 at the edge). */
export class DateSearchError extends Error {}

const DATE =
  /^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The range [start, end) a FHIR date search value stands for: `2026` is the whole year, `2026-11` the whole month,
 * `2026-11-03` the day — in Amsterdam time — and a time its second (or fraction). Impossible dates are refused.
 */
export function dateRange(value: string): { prefix: string; start: Date; end: Date } {
  const m = DATE.exec(value);
  const refuse = (nl: string, en: string) =>
    new DateSearchError(
      `datum "${value}" ${nl}; bijvoorbeeld ge2026-01-01, 2026-11 of lt2026-11-03 / date "${value}" ${en}; for example ge2026-01-01, 2026-11 or lt2026-11-03`,
    );
  if (!m) throw refuse('is geen geldige zoekwaarde voor een FHIR-datum', 'is not a FHIR date search value');
  const [, prefix = 'eq', y, mo, d, h, mi, s, fraction, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (year < 1) throw refuse('heeft geen jaar 0000', 'has no year 0000');
  if (month < 1 || month > 12)
    throw refuse('noemt een maand die niet bestaat', 'names a month that does not exist');
  if (day < 1 || day > daysInMonth(year, month))
    throw refuse('noemt een dag die niet bestaat', 'names a day that does not exist');
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59))
    throw refuse('noemt een tijd die niet bestaat', 'names a time that does not exist');
  if (zone && zone !== 'Z' && (Number(zone.slice(1, 3)) > 14 || Number(zone.slice(4)) > 59))
    throw refuse('noemt een tijdzone die niet bestaat', 'has a time zone that does not exist');
  if (h === undefined) {
    const date = value.slice(m[1]?.length ?? 0);
    return { prefix, start: startOfDate(date), end: endOfDate(date) };
  }
  const digits = fraction ? fraction.length - 1 : 0;
  const unit = s === undefined ? 60_000 : digits === 0 ? 1000 : Math.max(1, 10 ** (3 - Math.min(digits, 3)));
  const ms = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
  const local = wallClock(year, month, day, Number(h), Number(mi), Number(s ?? 0), ms);
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
export function sqlInstant(at: Date): string {
  if (at.getTime() < YEAR_ONE) return '-infinity';
  if (at.getUTCFullYear() > 9999) return 'infinity';
  return at.toISOString();
}

/**
 * The condition a date search value puts on a timestamptz column, its bounds added as parameters through `p`.
 * `eq` the range, `ne` outside it, `gt`/`sa` after its end, `ge` from its start, `lt`/`eb` before its start,
 * `le` before its end.
 */
export function dateCondition(column: string, value: string, p: (value: unknown) => string): string {
  const { prefix, start, end } = dateRange(value);
  const s = () => `${p(sqlInstant(start))}::timestamptz`;
  const e = () => `${p(sqlInstant(end))}::timestamptz`;
  if (prefix === 'eq') return `(${column} >= ${s()} AND ${column} < ${e()})`;
  if (prefix === 'ne') return `(${column} < ${s()} OR ${column} >= ${e()})`;
  if (prefix === 'gt' || prefix === 'sa') return `${column} >= ${e()}`;
  if (prefix === 'ge') return `${column} >= ${s()}`;
  if (prefix === 'lt' || prefix === 'eb') return `${column} < ${s()}`;
  return `${column} < ${e()}`;
}
