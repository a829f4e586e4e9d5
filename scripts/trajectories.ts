// `npm run fixtures:trajectories`: writes the synthetic coordination trajectories the sandbox records for the municipal
// report (fixtures/trajectories/*.json), built to reproduce the published figures: Venray 2022 300 families in care, 193
// closed, 107 open; 2023 285 / 173 / 112; Venlo 2005–2007 81 referrals (39 consultation, 42 coordinated), 71 closed,
// 10 open. Deterministic (a seeded generator); `--check` only compares and exits 1 when a file is out of date.
import path from 'node:path';
import { FIXTURES_DIR } from '../src/paths.js';
import type { FixtureTrajectory } from '../src/reports/fixtures.js';
import { finish, generate } from './generated.js';

function generator(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(weights: [T, number][]): T => {
    const total = weights.reduce((n, [, w]) => n + w, 0);
    let r = next() * total;
    for (const [value, w] of weights) if ((r -= w) < 0) return value;
    return weights[weights.length - 1]![0];
  };
  const day = (from: string, to: string) => {
    const a0 = Date.parse(from);
    const span = Math.round((Date.parse(to) - a0) / 86_400_000);
    return new Date(a0 + Math.floor(next() * (span + 1)) * 86_400_000).toISOString().slice(0, 10);
  };
  const shuffle = <T>(xs: T[]) => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  };
  return { next, pick, day, shuffle };
}

const SOURCES: [string, number][] = [
  ['self', 20],
  ['school', 16],
  ['gp', 15],
  ['jgz', 15],
  ['cjg', 10],
  ['youth-care', 8],
  ['municipality', 7],
  ['police', 4],
  ['veilig-thuis', 3],
  ['other', 2],
];
const REASONS: [string, number][] = [
  ['goals-achieved', 45],
  ['referred', 20],
  ['client-stopped', 15],
  ['no-cooperation', 7],
  ['statutory-measure', 5],
  ['moved', 4],
  ['other', 4],
];
const DOMAINS: [string, number][] = [
  ['parenting', 30],
  ['mental-health', 14],
  ['finances', 12],
  ['education', 12],
  ['housing', 8],
  ['social-network', 7],
  ['work-income', 6],
  ['domestic-violence', 5],
  ['addiction', 3],
  ['physical-health', 3],
  ['daily-living', 3],
  ['justice', 2],
];

function trajectory(
  g: ReturnType<typeof generator>,
  base: { org: string; municipality: string; id: string; started: string },
  type: string,
): FixtureTrajectory {
  const framework =
    type === 'consultation'
      ? 'voluntary'
      : g.pick([
          ['voluntary', 80],
          ['drang', 15],
          ['dwang', 5],
        ]);
  const level =
    framework === 'dwang'
      ? '5'
      : type === 'consultation'
        ? '1'
        : type === 'waakvlam'
          ? g.pick([
              ['2', 60],
              ['3', 40],
            ])
          : g.pick([
              ['3', 50],
              ['4', 50],
            ]);
  const domains = new Set<string>();
  const n = type === 'consultation' ? 1 : 1 + Math.floor(g.next() * 4);
  while (domains.size < n) domains.add(g.pick(DOMAINS));
  return {
    ...base,
    trajectoryType: type,
    coordinationLevel: level,
    framework,
    referralSource: g.pick(SOURCES),
    lifeDomains: [...domains].sort(),
  };
}

/** Closes `count` of the open trajectories at a day in [from, to] on or after their start. */
function close(
  g: ReturnType<typeof generator>,
  open: FixtureTrajectory[],
  count: number,
  from: string,
  to: string,
) {
  for (const t of g.shuffle([...open]).slice(0, count)) {
    t.ended = g.day(t.started > from ? t.started : from, to);
    t.closureReason = g.pick(REASONS);
  }
}

function venray(): FixtureTrajectory[] {
  const g = generator(984);
  const out: FixtureTrajectory[] = [];
  const add = (count: number, year: number) => {
    for (let i = 0; i < count; i++)
      out.push(
        trajectory(
          g,
          {
            org: 'Organization/jeugdzorg-horizon',
            municipality: '0984',
            id: `VR-${year}-${String(i + 1).padStart(4, '0')}`,
            started: g.day(`${year}-01-01`, `${year}-12-31`),
          },
          g.pick([
            ['consultation', 35],
            ['waakvlam', 30],
            ['complex-intensive', 35],
          ]),
        ),
      );
  };
  const open = () => out.filter((t) => !t.ended);
  add(96, 2021); // open at the start of 2022
  add(204, 2022); // 300 in care in 2022
  close(g, open(), 193, '2022-01-01', '2022-12-31'); // 107 open at its end
  add(178, 2023); // 285 in care in 2023
  close(g, open(), 173, '2023-01-01', '2023-12-31'); // 112 open at its end
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function venlo(): FixtureTrajectory[] {
  const g = generator(983);
  const types = g.shuffle([
    ...Array<string>(39).fill('consultation'),
    ...Array.from({ length: 42 }, () =>
      g.pick([
        ['waakvlam', 45],
        ['complex-intensive', 55],
      ]),
    ),
  ]);
  const out = types.map((type, i) =>
    trajectory(
      g,
      {
        org: 'Organization/cjg-venlo',
        municipality: '0983',
        id: `CJG-VL-${String(i + 1).padStart(3, '0')}`,
        started: g.day('2005-01-01', '2007-10-31'),
      },
      type,
    ),
  );
  close(g, out, 71, '2005-01-01', '2007-12-31'); // 10 still open at the end of 2007
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

let stale = 0;
const files = [
  ['0983-venlo.json', venlo()],
  ['0984-venray.json', venray()],
] as const;
for (const [file, rows] of files) {
  const text = `${JSON.stringify(rows, null, 1)}\n`;
  const target = path.join(FIXTURES_DIR, 'trajectories', file);
  if (generate(target, text, `fixtures/trajectories/${file}`, 'npm run fixtures:trajectories')) stale++;
}
finish(stale, `${files.reduce((n, [, rows]) => n + rows.length, 0)} trajectories in ${files.length} files`);
