// Calendar dates as the Netherlands counts them (Europe/Amsterdam, summer time included): the day an instant falls on,
// the first and last moment of a date, periods with date-only bounds, ages, wall-clock times and Dutch date formats.
// The one place that knows the time zone; everything else asks here.

const ZONE = 'Europe/Amsterdam';

const AMSTERDAM_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

// Formatting with a time zone is the slowest step of a decision; the few instants a process asks about repeat.
const dates = new Map<number, string>();

/** The calendar date (YYYY-MM-DD) of an instant in the Netherlands. */
export function dutchDate(at: Date): string {
  const t = at.getTime();
  let date = dates.get(t);
  if (date === undefined) {
    date = AMSTERDAM_DATE.format(at);
    if (dates.size > 1000) dates.clear();
    dates.set(t, date);
  }
  return date;
}

/** Whole years between a birth date (YYYY, YYYY-MM or YYYY-MM-DD) and the Dutch calendar date of `at`. */
export function ageOn(birthDate: string, at: Date): number {
  const today = dutchDate(at);
  const by = Number(birthDate.slice(0, 4));
  // Month and day compared as MM-DD text; a partial birth date counts from 1 January.
  const birthday =
    birthDate.length >= 10
      ? birthDate.slice(5, 10)
      : birthDate.length >= 7
        ? `${birthDate.slice(5, 7)}-01`
        : '01-01';
  return Number(today.slice(0, 4)) - by - (today.slice(5, 10) < birthday ? 1 : 0);
}

const OFFSET = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, timeZoneName: 'longOffset' });

/** Minutes Amsterdam is ahead of UTC at an instant (60 in winter, 120 in summer). */
export function amsterdamOffset(at: number): number {
  const name = OFFSET.formatToParts(new Date(at)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/**
 * A wall-clock time as UTC milliseconds of the same fields (month 1–12; a day past the month's end runs into the
 * next month). Years below 100 stay those years.
 */
export function wallClock(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  ms = 0,
) {
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day);
  t.setUTCHours(hour, minute, second, ms);
  return t.getTime();
}

/** The instant of a wall-clock time in Amsterdam (fields as UTC milliseconds of that wall-clock time, see wallClock). */
export function amsterdamInstant(wall: number): number {
  let at = wall - amsterdamOffset(wall) * 60_000;
  // Once more with the offset at the first guess: right across a change of daylight-saving time.
  at = wall - amsterdamOffset(at) * 60_000;
  return at;
}

/**
 * The same Amsterdam wall-clock time `years` calendar years later (29 February runs into 1 March in a common year):
 * the moment a period counted in years ends, in summer time as in winter time.
 */
export function addYears(at: Date, years: number): Date {
  const wall = new Date(at.getTime() + amsterdamOffset(at.getTime()) * 60_000);
  return new Date(
    amsterdamInstant(
      wallClock(
        wall.getUTCFullYear() + years,
        wall.getUTCMonth() + 1,
        wall.getUTCDate(),
        wall.getUTCHours(),
        wall.getUTCMinutes(),
        wall.getUTCSeconds(),
        wall.getUTCMilliseconds(),
      ),
    ),
  );
}

/** The number of days in a month (1–12) of a year. */
export const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

const DATE_ONLY = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/** Year, month and day of a date-only value (YYYY, YYYY-MM or YYYY-MM-DD), and the same of the date after it. */
function dateFields(date: string): { start: [number, number, number]; next: [number, number, number] } {
  const m = DATE_ONLY.exec(date);
  if (!m) throw new RangeError(`"${date}" is not a date (YYYY, YYYY-MM or YYYY-MM-DD)`);
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const next: [number, number, number] =
    m[2] === undefined
      ? [year + 1, 1, 1]
      : m[3] === undefined
        ? [month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1]
        : [year, month, day + 1];
  return { start: [year, month, day], next };
}

/** The first moment (00:00 in Amsterdam) of a calendar date, month (YYYY-MM) or year (YYYY). */
export function startOfDate(date: string): Date {
  return new Date(amsterdamInstant(wallClock(...dateFields(date).start)));
}

/** The first moment of the date, month or year after `date`: a date-only period ends just before it. */
export function endOfDate(date: string): Date {
  return new Date(amsterdamInstant(wallClock(...dateFields(date).next)));
}

// Consents and covenants repeat the same few bounds; parsing them once keeps a decision in the microseconds.
const bounds = new Map<string, number>();
function cached(key: string, compute: () => number): number {
  let t = bounds.get(key);
  if (t === undefined) {
    t = compute();
    if (bounds.size > 10_000) bounds.clear();
    bounds.set(key, t);
  }
  return t;
}

/**
 * The last moment (in milliseconds) of a period ending at `end`: for a bound with a time that instant, for a date-only
 * bound (YYYY-MM-DD, YYYY-MM, YYYY) the last millisecond of that day, month or year in Amsterdam.
 */
export function periodEnd(end: string): number {
  return cached(`end ${end}`, () =>
    DATE_ONLY.test(end) ? endOfDate(end).getTime() - 1 : new Date(end).getTime(),
  );
}

/**
 * Whether a moment lies in a period. A bound without a time (2026-07-01, 2026-07, 2026) is a calendar date in the
 * Netherlands: the period starts with the first moment of that day (month, year) in Amsterdam and ends with its last,
 * in summer time as in winter time; a bound with a time is that instant.
 */
export function inPeriod(period: { start?: string; end?: string } | undefined, at: Date): boolean {
  if (!period) return true;
  const t = at.getTime();
  const { start, end } = period;
  if (
    start &&
    (start.includes('T')
      ? cached(start, () => new Date(start).getTime()) > t
      : dutchDate(at).slice(0, start.length) < start)
  )
    return false;
  if (
    end &&
    (end.includes('T')
      ? cached(end, () => new Date(end).getTime()) < t
      : dutchDate(at).slice(0, end.length) > end)
  )
    return false;
  return true;
}

const WALL_CLOCK = new Intl.DateTimeFormat('sv-SE', {
  timeZone: ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  timeZoneName: 'longOffset',
});

/** An instant as Amsterdam wall-clock time with its offset (`2026-11-03T10:15:00.000+01:00`), as the console shows it. */
export function amsterdamIso(at: Date): string {
  const part = Object.fromEntries(WALL_CLOCK.formatToParts(at).map((x) => [x.type, x.value]));
  const zone = /GMT([+-]\d{2}:\d{2})/.exec(part.timeZoneName ?? '')?.[1] ?? '+00:00';
  return `${part.year}-${part.month}-${part.day}T${part.hour}:${part.minute}:${part.second}.${part.fractionalSecond}${zone}`;
}

/** Dates and moments as the pages show them: in Dutch, Amsterdam time ("24 november 2026 om 10:51"). */
export const dutchDay = new Intl.DateTimeFormat('nl-NL', { dateStyle: 'long', timeZone: ZONE });
export const dutchMoment = new Intl.DateTimeFormat('nl-NL', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: ZONE,
});

/** A calendar date (YYYY-MM-DD) or an instant as the Dutch day it is ("1 juli 2026"). */
export function formatDutchDay(value: string): string {
  // Noon UTC lies on the same calendar day in Amsterdam, in summer as in winter.
  return dutchDay.format(new Date(value.length === 10 ? `${value}T12:00:00Z` : value));
}
