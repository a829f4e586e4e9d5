// Age on a date, as Dutch law counts it: whole years, the birthday counting from its first moment in the Netherlands.
const AMSTERDAM_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Amsterdam',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar date (YYYY-MM-DD) of an instant in the Netherlands. */
export function dutchDate(at: Date): string {
  return AMSTERDAM_DATE.format(at);
}

/** Whole years between a birth date (YYYY, YYYY-MM or YYYY-MM-DD) and the Dutch calendar date of `at`. */
export function ageOn(birthDate: string, at: Date): number {
  const [by, bm = 1, bd = 1] = birthDate.split('-').map(Number) as [number, number?, number?];
  const [y, m, d] = dutchDate(at).split('-').map(Number) as [number, number, number];
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) age--;
  return age;
}

export type AgeBand = 'under-12' | '12-15' | '16-17' | 'adult';

export function ageBand(age: number): AgeBand {
  if (age < 12) return 'under-12';
  if (age < 16) return '12-15';
  if (age < 18) return '16-17';
  return 'adult';
}
