// Consent periods as Dutch calendar dates: a date-only bound is a whole day in Amsterdam, in summer as in winter.
import { describe, expect, it } from 'vitest';
import { inPeriod } from './provisions.js';

describe('inPeriod', () => {
  it('starts a date-only period at midnight in Amsterdam in summer time (UTC+2), not at midnight UTC', () => {
    const period = { start: '2026-07-01' };
    // 00:30 on 1 July in Amsterdam is 22:30 on 30 June in UTC.
    expect(inPeriod(period, new Date('2026-06-30T22:30:00Z'))).toBe(true);
    expect(inPeriod(period, new Date('2026-06-30T21:30:00Z'))).toBe(false);
  });

  it('ends a date-only period with the last moment of that day in Amsterdam, in summer and in winter time', () => {
    expect(inPeriod({ end: '2026-07-01' }, new Date('2026-07-01T21:59:59Z'))).toBe(true);
    // 00:30 on 2 July in Amsterdam.
    expect(inPeriod({ end: '2026-07-01' }, new Date('2026-07-01T22:30:00Z'))).toBe(false);
    expect(inPeriod({ end: '2026-01-15' }, new Date('2026-01-15T22:59:59Z'))).toBe(true);
    expect(inPeriod({ end: '2026-01-15' }, new Date('2026-01-15T23:00:00Z'))).toBe(false);
  });

  it('keeps the day on which summer time starts whole (23 hours)', () => {
    const day = { start: '2026-03-29', end: '2026-03-29' };
    expect(inPeriod(day, new Date('2026-03-28T23:00:00Z'))).toBe(true); // 00:00 CET
    expect(inPeriod(day, new Date('2026-03-29T21:59:59Z'))).toBe(true); // 23:59:59 CEST
    expect(inPeriod(day, new Date('2026-03-29T22:00:00Z'))).toBe(false);
  });

  it('reads a month or a year as the whole month or year, and a bound with a time as that instant', () => {
    expect(inPeriod({ start: '2026-07', end: '2026-07' }, new Date('2026-07-31T21:00:00Z'))).toBe(true);
    expect(inPeriod({ start: '2026-07', end: '2026-07' }, new Date('2026-07-31T22:30:00Z'))).toBe(false);
    expect(inPeriod({ end: '2026' }, new Date('2026-12-31T22:59:00Z'))).toBe(true);
    expect(inPeriod({ end: '2026-07-01T12:00:00+02:00' }, new Date('2026-07-01T10:00:01Z'))).toBe(false);
    expect(inPeriod({ start: '2026-07-01T12:00:00+02:00' }, new Date('2026-07-01T10:00:00Z'))).toBe(true);
  });
});
