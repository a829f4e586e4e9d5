// Age on a date, as Dutch law counts it: whole years, the birthday counting from its first moment in the Netherlands.
const AMSTERDAM_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Amsterdam',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

// Formatting with a time zone is the slowest step of a decision; the few instants a process asks about repeat.
const cache = new Map<number, string>();

/** The calendar date (YYYY-MM-DD) of an instant in the Netherlands. */
export function dutchDate(at: Date): string {
  const t = at.getTime();
  let date = cache.get(t);
  if (date === undefined) {
    date = AMSTERDAM_DATE.format(at);
    if (cache.size > 1000) cache.clear();
    cache.set(t, date);
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

export type AgeBand = 'under-12' | '12-15' | '16-17' | 'adult';

export function ageBand(age: number): AgeBand {
  if (age < 12) return 'under-12';
  if (age < 16) return '12-15';
  if (age < 18) return '16-17';
  return 'adult';
}
