// The age bands of the consent rules: under 12, 12 to 15, 16 and 17, adult. The age itself is counted by the Dutch
// calendar (ageOn in src/time/amsterdam.ts).

export type AgeBand = 'under-12' | '12-15' | '16-17' | 'adult';

export function ageBand(age: number): AgeBand {
  if (age < 12) return 'under-12';
  if (age < 16) return '12-15';
  if (age < 18) return '16-17';
  return 'adult';
}
