// Small-cell suppression for aggregate reports: no count below the threshold is published, and none can be narrowed
// down to below the threshold from the published counts and the sums they are known to add up to.
//
// A report is a set of named counts and of constraints "total = sum of cells" (inflow = the referral-source cells,
// the families in care = those open at the start + the inflow, …). A count is sensitive when it is above 0 and below
// the threshold; it is never published (primary suppression). A reader knows that every withheld count is at least 1
// (zeros are published) and can bound each withheld count through the constraints (interval propagation: a total lies
// between the sums of its cells' bounds, a cell between its total's bounds less the other cells'). A sensitive count is
// exposed when its upper bound falls below the threshold: the reader could then tell it is small, or even its value.
// While one is exposed, a further published count is withheld (secondary suppression): the smallest one whose
// withholding protects it, looking first in the sums the exposed count is part of and then further out; when no single
// count would, the smallest in the nearest sums, and the check starts again.

export interface Constraint {
  total: string;
  cells: string[];
}

export interface SuppressionResult {
  /** The counts that may be published; a name missing here is suppressed. */
  published: Map<string, number>;
  /** Suppressed because it is below the threshold. */
  primary: Set<string>;
  /** Suppressed so that a primary one cannot be worked out. */
  secondary: Set<string>;
}

export function suppress(
  counts: ReadonlyMap<string, number>,
  constraints: readonly Constraint[],
  threshold: number,
): SuppressionResult {
  for (const c of constraints) {
    const sum = c.cells.reduce((n, cell) => n + (counts.get(cell) ?? 0), 0);
    if (sum !== (counts.get(c.total) ?? 0))
      throw new Error(`the cells of ${c.total} add up to ${sum}, not ${counts.get(c.total) ?? 0}`);
  }
  const count = (name: string) => counts.get(name) ?? 0;
  const sensitive = (name: string) => count(name) > 0 && count(name) < threshold;
  const primary = new Set([...counts.keys()].filter(sensitive));
  const secondary = new Set<string>();
  const withheld = (name: string) => primary.has(name) || secondary.has(name);
  const totals = new Set(constraints.map((c) => c.total));
  const bySize = (a: string, b: string) =>
    count(a) - count(b) || Number(totals.has(a)) - Number(totals.has(b)) || a.localeCompare(b);
  const exposedIn = (hidden: (name: string) => boolean) => {
    const b = bounds(count, constraints, hidden);
    return [...primary].filter((name) => (b.get(name)?.[1] ?? Infinity) < threshold);
  };
  for (;;) {
    const exposed = exposedIn(withheld);
    if (exposed.length === 0) break;
    const target = exposed.sort(bySize)[0]!;
    secondary.add(
      protector(
        target,
        constraints,
        withheld,
        count,
        bySize,
        (name) => !exposedIn((n) => n === name || withheld(n)).includes(target),
      ),
    );
  }
  const published = new Map([...counts].filter(([name]) => !withheld(name)));
  return { published, primary, secondary };
}

/**
 * The count to withhold for an exposed one: going out from the sums it is part of, level by level, the smallest
 * published count whose withholding protects it; when no single one does, the smallest published count (zeros last) of
 * the nearest sums that have one.
 */
function protector(
  target: string,
  constraints: readonly Constraint[],
  withheld: (name: string) => boolean,
  count: (name: string) => number,
  bySize: (a: string, b: string) => number,
  protects: (name: string) => boolean,
): string {
  const levels: string[][] = [];
  const reached = new Set([target]);
  const used = new Set<Constraint>();
  for (;;) {
    const next = constraints.filter((c) => !used.has(c) && [c.total, ...c.cells].some((m) => reached.has(m)));
    if (next.length === 0) break;
    const level = new Set<string>();
    for (const c of next) {
      used.add(c);
      for (const m of [c.total, ...c.cells]) {
        if (!reached.has(m) && !withheld(m)) level.add(m);
        reached.add(m);
      }
    }
    levels.push([...level].sort(bySize));
  }
  for (const level of levels) {
    const found = level.find((name) => count(name) > 0 && protects(name));
    if (found) return found;
  }
  const nearest = levels.find((level) => level.length > 0);
  if (!nearest) throw new Error(`${target} cannot be protected`);
  return nearest.find((name) => count(name) > 0) ?? nearest[0]!;
}

/** What a reader can tell of each count: [lowest, highest] possible, withheld counts being at least 1. */
function bounds(
  count: (name: string) => number,
  constraints: readonly Constraint[],
  withheld: (name: string) => boolean,
): Map<string, [number, number]> {
  const b = new Map<string, [number, number]>();
  for (const c of constraints)
    for (const m of [c.total, ...c.cells])
      if (!b.has(m)) b.set(m, withheld(m) ? [1, Infinity] : [count(m), count(m)]);
  const sumHi = (names: string[]) => names.reduce((n, m) => n + b.get(m)![1], 0);
  const sumLo = (names: string[]) => names.reduce((n, m) => n + b.get(m)![0], 0);
  for (let round = 0, changed = true; changed && round < 1000; round++) {
    changed = false;
    const tighten = (name: string, lo: number, hi: number) => {
      const [l, h] = b.get(name)!;
      const nl = Math.max(l, lo);
      const nh = Math.min(h, hi);
      if (nl !== l || nh !== h) {
        b.set(name, [nl, nh]);
        changed = true;
      }
    };
    for (const c of constraints) {
      tighten(c.total, sumLo(c.cells), sumHi(c.cells));
      const [tl, th] = b.get(c.total)!;
      for (const cell of c.cells) {
        const others = c.cells.filter((m) => m !== cell);
        tighten(cell, tl - sumHi(others), th - sumLo(others));
      }
    }
  }
  return b;
}
