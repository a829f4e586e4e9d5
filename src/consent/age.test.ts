import { describe, expect, it } from 'vitest';
import { ageBand, ageOn } from './age.js';

describe('ageOn', () => {
  it('counts the birthday from its first moment in the Netherlands', () => {
    // 23:30 UTC on 13 June is already 14 June in Amsterdam (summer time).
    expect(ageOn('2014-06-14', new Date('2026-06-13T23:30:00Z'))).toBe(12);
    expect(ageOn('2014-06-14', new Date('2026-06-13T21:30:00Z'))).toBe(11);
  });
  it('handles leap-day birthdays and partial dates', () => {
    expect(ageOn('2012-02-29', new Date('2024-02-28T12:00:00Z'))).toBe(11);
    expect(ageOn('2012-02-29', new Date('2024-02-29T12:00:00Z'))).toBe(12);
    expect(ageOn('2010', new Date('2026-01-01T12:00:00Z'))).toBe(16);
  });
  it('puts ages in the bands of the consent rules', () => {
    expect([11, 12, 15, 16, 17, 18].map(ageBand)).toEqual([
      'under-12',
      '12-15',
      '12-15',
      '16-17',
      '16-17',
      'adult',
    ]);
  });
});
