// fast-check arbitraries for native records (the mapping round trips): dates, BSNs that pass the 11-test, optional
// fields left out.
import fc from 'fast-check';
import { isValidBsn } from '../src/mappings/bsn.js';

/** A calendar date (YYYY-MM-DD) from `from` to the end of 2025. */
export const isoDate = (from: string) =>
  fc
    .date({ min: new Date(from), max: new Date('2025-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));

/** A BSN that passes the 11-test (9999xxxxx, the test range). */
export const validBsn = fc.integer({ min: 0, max: 99_999 }).map((n) => {
  for (let k = n; ; k = (k + 1) % 100_000) {
    const b = `9999${String(k).padStart(5, '0')}`;
    if (isValidBsn(b)) return b;
  }
});

/** The value or nothing: an optional field. */
export const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** The record without its undefined fields (as a native record leaves them out). */
export const clean = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
