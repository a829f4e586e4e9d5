// The Dutch calendar: days, periods and ages in Amsterdam time, in summer (UTC+2) as in winter (UTC+1).
import { describe, expect, it } from 'vitest';
import {
  addYears,
  ageOn,
  amsterdamIso,
  dutchDate,
  endOfDate,
  formatDutchDay,
  inPeriod,
  periodEnd,
  startOfDate,
} from './amsterdam.js';

describe('dutchDate', () => {
  it('gives the calendar date in Amsterdam, which runs ahead of UTC', () => {
    expect(dutchDate(new Date('2026-06-30T22:30:00Z'))).toBe('2026-07-01');
    expect(dutchDate(new Date('2026-01-14T22:30:00Z'))).toBe('2026-01-14');
    expect(dutchDate(new Date('2026-01-14T23:30:00Z'))).toBe('2026-01-15');
  });
});

describe('startOfDate and endOfDate', () => {
  it('start a day at midnight in Amsterdam and end it at the next midnight, in summer and in winter', () => {
    expect(startOfDate('2026-07-01').toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(endOfDate('2026-07-01').toISOString()).toBe('2026-07-01T22:00:00.000Z');
    expect(startOfDate('2026-01-15').toISOString()).toBe('2026-01-14T23:00:00.000Z');
    expect(endOfDate('2026-01-15').toISOString()).toBe('2026-01-15T23:00:00.000Z');
  });

  it('read a month or a year as the whole month or year', () => {
    expect(startOfDate('2026-07').toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(endOfDate('2026-12').toISOString()).toBe('2026-12-31T23:00:00.000Z');
    expect(endOfDate('2026').toISOString()).toBe('2026-12-31T23:00:00.000Z');
  });

  it('keep the day on which summer time starts 23 hours long', () => {
    expect(endOfDate('2026-03-29').getTime() - startOfDate('2026-03-29').getTime()).toBe(23 * 3600_000);
    expect(endOfDate('2026-10-25').getTime() - startOfDate('2026-10-25').getTime()).toBe(25 * 3600_000);
  });
});

describe('periodEnd', () => {
  it('ends a date-only period with the last millisecond of that day in Amsterdam; a bound with a time is that instant', () => {
    expect(new Date(periodEnd('2026-07-01')).toISOString()).toBe('2026-07-01T21:59:59.999Z');
    expect(new Date(periodEnd('2026-01-15')).toISOString()).toBe('2026-01-15T22:59:59.999Z');
    expect(new Date(periodEnd('2026-07-01T12:00:00+02:00')).toISOString()).toBe('2026-07-01T10:00:00.000Z');
  });
});

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
});

describe('Dutch formats', () => {
  it('shows an instant as Amsterdam wall-clock time with its offset', () => {
    expect(amsterdamIso(new Date('2026-11-03T09:15:00Z'))).toBe('2026-11-03T10:15:00.000+01:00');
    expect(amsterdamIso(new Date('2026-07-01T09:15:00Z'))).toBe('2026-07-01T11:15:00.000+02:00');
  });
  it('shows a calendar date or an instant as the Dutch day it is', () => {
    expect(formatDutchDay('2026-07-01')).toBe('1 juli 2026');
    expect(formatDutchDay('2026-06-30T22:30:00Z')).toBe('1 juli 2026');
  });
});

describe('addYears', () => {
  it('keeps the Amsterdam date and time, also when summer time starts on another date that year', () => {
    // 00:30 on 31 March 2019 was winter time (UTC+1); on 31 March 2020 it is summer time (UTC+2).
    expect(addYears(new Date('2019-03-30T23:30:00Z'), 1).toISOString()).toBe('2020-03-30T22:30:00.000Z');
    // 00:30 on 2 July stays 00:30 on 2 July, seven years on.
    expect(addYears(new Date('2019-07-01T22:30:00Z'), 7).toISOString()).toBe('2026-07-01T22:30:00.000Z');
    expect(addYears(new Date('2020-01-14T23:30:00Z'), 7).toISOString()).toBe('2027-01-14T23:30:00.000Z');
  });

  it('runs 29 February into 1 March of a common year', () => {
    expect(addYears(new Date('2028-02-29T10:00:00Z'), 1).toISOString()).toBe('2029-03-01T10:00:00.000Z');
  });
});
