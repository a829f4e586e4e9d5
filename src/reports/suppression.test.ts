import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { suppress, type Constraint } from './suppression.js';

const run = (values: Record<string, number>, constraints: Constraint[], k = 5) =>
  suppress(new Map(Object.entries(values)), constraints, k);

/**
 * What a reader can work out, by brute force: every assignment of the withheld counts (each at least 1, as zeros are
 * published, and at most `bound`) that agrees with the published counts and the constraints; returns the withheld names
 * whose possible values all lie below `below` (with `below` 2: those that have only one possible value, 1). Independent
 * of the suppression's own reasoning.
 */
function determined(
  values: Record<string, number>,
  constraints: Constraint[],
  published: Map<string, number>,
  bound: number,
  below = 2,
): string[] {
  const hidden = Object.keys(values).filter((n) => !published.has(n));
  const seen = new Map<string, Set<number>>(hidden.map((n) => [n, new Set()]));
  const assigned = new Map<string, number>(published);
  let budget = 2_000_000;
  const consistent = () =>
    constraints.every((c) => {
      const members = [c.total, ...c.cells];
      if (!members.every((m) => assigned.has(m))) return true;
      return assigned.get(c.total) === c.cells.reduce((n, m) => n + assigned.get(m)!, 0);
    });
  const search = (i: number) => {
    if (--budget < 0) throw new Error('search budget exceeded');
    if (i === hidden.length) {
      for (const n of hidden) seen.get(n)!.add(assigned.get(n)!);
      return;
    }
    for (let v = 1; v <= bound; v++) {
      assigned.set(hidden[i]!, v);
      if (consistent()) search(i + 1);
    }
    assigned.delete(hidden[i]!);
  };
  search(0);
  return hidden.filter((n) => Math.max(...seen.get(n)!) < below);
}

describe('small-cell suppression', () => {
  it('withholds a small cell and the next smallest, so that the total does not give it away', () => {
    const r = run({ t: 20, a: 3, b: 10, c: 7 }, [{ total: 't', cells: ['a', 'b', 'c'] }]);
    expect([...r.primary]).toEqual(['a']);
    expect([...r.secondary]).toEqual(['c']);
    expect(Object.fromEntries(r.published)).toEqual({ t: 20, b: 10 });
  });

  it('widens the withheld cells until they could hide at least the threshold', () => {
    const r = run({ t: 17, a: 1, b: 1, c: 15 }, [{ total: 't', cells: ['a', 'b', 'c'] }]);
    expect(Object.fromEntries(r.published)).toEqual({ t: 17 });
    expect([...r.secondary]).toEqual(['c']);
  });

  it('publishes zeros and counts at or above the threshold untouched', () => {
    const r = run({ t: 25, a: 0, b: 5, c: 20 }, [{ total: 't', cells: ['a', 'b', 'c'] }]);
    expect(Object.fromEntries(r.published)).toEqual({ t: 25, a: 0, b: 5, c: 20 });
  });

  it('does not let a withheld total be rebuilt from its cells (nested sums)', () => {
    // in care = open at start + inflow = outflow + open at end; inflow = the referral sources.
    const values = { care: 40, start: 3, inflow: 37, out: 20, end: 20, s1: 30, s2: 7 };
    const constraints = [
      { total: 'care', cells: ['start', 'inflow'] },
      { total: 'care', cells: ['out', 'end'] },
      { total: 'inflow', cells: ['s1', 's2'] },
    ];
    const r = run(values, constraints);
    expect(r.published.has('start')).toBe(false);
    expect(determined(values, constraints, r.published, 60)).toEqual([]);
  });

  it('refuses counts whose cells do not add up to their total', () => {
    expect(() => run({ t: 10, a: 3, b: 4 }, [{ total: 't', cells: ['a', 'b'] }])).toThrow(/add up to 7/);
  });

  it('never publishes a small count, and no reader can tell from what it publishes that a withheld count is small', () => {
    // A total split two ways (like in care = open at start + inflow = outflow + open at end), one of whose cells is
    // split again (inflow by referral source).
    const cells = (n: number) => fc.array(fc.integer({ min: 0, max: 7 }), { minLength: n, maxLength: n });
    fc.assert(
      fc.property(cells(3), cells(2), fc.integer({ min: 2, max: 5 }), (sub, second, k) => {
        const inflow = sub.reduce((a, b) => a + b, 0);
        const start = second[0]!;
        const care = start + inflow;
        const out = Math.min(second[1]!, care);
        const values: Record<string, number> = { care, start, inflow, out, end: care - out };
        sub.forEach((v, i) => (values[`s${i}`] = v));
        const constraints = [
          { total: 'care', cells: ['start', 'inflow'] },
          { total: 'care', cells: ['out', 'end'] },
          { total: 'inflow', cells: sub.map((_, i) => `s${i}`) },
        ];
        const r = suppress(new Map(Object.entries(values)), constraints, k);
        for (const [name, v] of r.published) expect(v === 0 || v >= k, `${name}=${v} published`).toBe(true);
        const sensitive = Object.keys(values).filter((n) => values[n]! > 0 && values[n]! < k);
        const exposed = determined(values, constraints, r.published, care + 8).filter((n) =>
          sensitive.includes(n),
        );
        expect(exposed, JSON.stringify({ values, k, published: [...r.published] })).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
