// Retention in calendar years in Amsterdam: an event expires at the same Dutch date and time, years after it was
// recorded, whatever the summer time does.
import { describe, expect, it } from 'vitest';
import type { Catalogue } from '../consent/catalogue.js';
import { retentionEnd, retentionYears } from './retention.js';

const catalogue = {
  legalBases: new Map([['jw-7.4.4', { retentionYears: 15 }]]),
} as unknown as Catalogue;

describe('retention', () => {
  it("takes the legal basis's years, the default otherwise", () => {
    expect(retentionYears('jw-7.4.4', catalogue, 20)).toBe(15);
    expect(retentionYears('unknown', catalogue, 20)).toBe(20);
    expect(retentionYears(null, catalogue, 20)).toBe(20);
  });

  it('ends at the same Amsterdam date and time, in summer and in winter', () => {
    // 00:30 on 2 July 2026 in Amsterdam (22:30 UTC on 1 July): a UTC year count would say 1 July.
    expect(retentionEnd(new Date('2026-07-01T22:30:00Z'), 'jw-7.4.4', catalogue, 20).toISOString()).toBe(
      '2041-07-01T22:30:00.000Z',
    );
    expect(retentionEnd(new Date('2026-01-14T23:30:00Z'), null, catalogue, 20).toISOString()).toBe(
      '2046-01-14T23:30:00.000Z',
    );
  });

  it('counts from the Dutch date when summer time starts on another day of the later year', () => {
    // 00:30 on 30 March 2025 (winter time, UTC+1) expires at 00:30 on 30 March 2040, which is summer time (UTC+2):
    // one hour earlier than fifteen UTC years.
    expect(retentionEnd(new Date('2025-03-29T23:30:00Z'), null, catalogue, 15).toISOString()).toBe(
      '2040-03-29T22:30:00.000Z',
    );
  });
});
