import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EpisodeOfCare, MeasureReport } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { checkFhir } from '../mappings/validate.js';
import { accepted } from '../fhir/verdict.js';
import { FIXTURES_DIR } from '../paths.js';
import { fixtureEpisode, fixtureInput, type FixtureTrajectory } from './fixtures.js';
import { municipalMeasure, municipalReport } from './municipal.js';
import { parseMunicipality, parsePeriod } from './period.js';
import { reportTrajectory } from './trajectory.js';

const fixture = (file: string) =>
  JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'trajectories', file), 'utf8')) as FixtureTrajectory[];
const venray = fixture('0984-venray.json');
const venlo = fixture('0983-venlo.json');

const report = (rows: FixtureTrajectory[], period: string, threshold = 5) =>
  municipalReport({ municipality: rows[0]!.municipality, period: parsePeriod(period)!, rows, threshold });

/** A group's count (undefined when masked). */
const total = (r: MeasureReport, code: string) =>
  r.group!.find((g) => g.code!.coding![0]!.code === code)!.population![0]!.count;
/** The strata of a group's stratifier: code → count (undefined when masked). */
const strata = (r: MeasureReport, code: string) =>
  Object.fromEntries(
    r
      .group!.find((g) => g.code!.coding![0]!.code === code)!
      .stratifier![0]!.stratum!.map((s) => [
        s.value!.coding?.[0]?.code ?? 'unknown',
        s.population![0]!.count,
      ]),
  );
/** Every published count of a report. */
const published = (r: MeasureReport) =>
  r.group!.flatMap((g) => [
    ...(g.population ?? []).map((p) => p.count),
    ...(g.stratifier ?? []).flatMap((s) => (s.stratum ?? []).map((st) => st.population![0]!.count)),
  ]);

describe('municipal report', () => {
  it('reads years, quarters, months and ranges of them, and nothing else', () => {
    expect(parsePeriod('2023')).toEqual({
      label: '2023',
      kind: 'year',
      start: '2023-01-01',
      end: '2023-12-31',
    });
    expect(parsePeriod('2024-Q1')).toMatchObject({ kind: 'quarter', start: '2024-01-01', end: '2024-03-31' });
    expect(parsePeriod('2024-02')).toMatchObject({ kind: 'month', start: '2024-02-01', end: '2024-02-29' });
    expect(parsePeriod('2005/2007')).toMatchObject({ kind: 'range', start: '2005-01-01', end: '2007-12-31' });
    for (const bad of ['', '23', '2023-13', '2023-Q5', '2023/2022', '2023-1', 'last year', '2023/2024/2025'])
      expect(parsePeriod(bad), bad).toBeUndefined();
    expect(parseMunicipality('0984')).toBe('0984');
    expect(parseMunicipality('GM0984')).toBe('0984');
    expect(parseMunicipality('https://ketenpoort.nl/fhir/NamingSystem/cbs-gemeentecode|0983')).toBe('0983');
    for (const bad of ['984', 'Venray', 'http://example.org|0984'])
      expect(parseMunicipality(bad)).toBeUndefined();
  });

  it("reproduces Venray's published figures: 2022 300 in care, 193 closed, 107 open; 2023 285 / 173 / 112", () => {
    const y2022 = report(venray, '2022');
    expect([total(y2022, 'in-care'), total(y2022, 'outflow'), total(y2022, 'open-end')]).toEqual([
      300, 193, 107,
    ]);
    const y2023 = report(venray, '2023');
    expect([total(y2023, 'in-care'), total(y2023, 'outflow'), total(y2023, 'open-end')]).toEqual([
      285, 173, 112,
    ]);
    expect([total(y2023, 'open-start'), total(y2023, 'inflow')]).toEqual([107, 178]);
  });

  it('reproduces Venlo 2005–2007: 81 referrals (39 consultation, 42 coordinated), 71 closed, 10 open', () => {
    const r = report(venlo, '2005/2007');
    expect([total(r, 'in-care'), total(r, 'inflow'), total(r, 'outflow'), total(r, 'open-end')]).toEqual([
      81, 81, 71, 10,
    ]);
    const types = strata(r, 'in-care');
    expect(types.consultation).toBe(39);
    expect(types.waakvlam! + types['complex-intensive']!).toBe(42);
  });

  it('masks every count below the threshold and as many others as it takes, and says so', () => {
    for (const r of [report(venlo, '2006'), report(venray, '2023-Q2'), report(venray, '2023', 10)]) {
      const threshold = r.extension![0]!.valueInteger!;
      for (const n of published(r)) if (n !== undefined) expect(n === 0 || n >= threshold).toBe(true);
    }
    const r = report(venlo, '2006');
    const sources = r.group!.find((g) => g.code!.coding![0]!.code === 'inflow')!.stratifier![0]!.stratum!;
    const masked = sources.filter((s) => s.population![0]!.count === undefined);
    expect(masked.length).toBeGreaterThanOrEqual(2);
    for (const s of masked)
      expect((s.population![0] as { _count?: { extension?: unknown } })._count?.extension).toEqual([
        { url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' },
      ]);
    // What is published adds up with what is masked: the masked strata hide at least the threshold.
    const inflow = total(r, 'inflow')!;
    const shown = sources.reduce((n, s) => n + (s.population![0]!.count ?? 0), 0);
    expect(inflow - shown).toBeGreaterThanOrEqual(5);
  });

  it('gives the median throughput time only over at least the threshold of closed trajectories', () => {
    const r = report(venray, '2023');
    const group = r.group!.find((g) => g.code!.coding![0]!.code === 'throughput-time')!;
    expect(group.measureScore).toMatchObject({ unit: 'd', code: 'd' });
    expect(group.measureScore!.value).toBeGreaterThan(0);
    for (const s of group.stratifier![0]!.stratum!)
      if ((s.population![0]!.count ?? 0) < 5) expect(s.measureScore).toBeUndefined();
    const tiny = municipalReport({
      municipality: '0983',
      period: parsePeriod('2007-12')!,
      rows: venlo,
      threshold: 5,
    });
    expect(
      tiny.group!.find((g) => g.code!.coding![0]!.code === 'throughput-time')!.measureScore,
    ).toBeUndefined();
  });

  it('is valid FHIR R4, as is its Measure', () => {
    expect(() =>
      accepted(checkFhir(report(venray, '2023'), ['MeasureReport'], { thorough: true })),
    ).not.toThrow();
    expect(() => accepted(checkFhir(municipalMeasure(), ['Measure'], { thorough: true }))).not.toThrow();
  });

  it('has fixture trajectories that are valid coordination EpisodeOfCare resources the report accepts', () => {
    for (const t of [...venray, ...venlo]) {
      const input = fixtureInput(t);
      const episode = accepted(checkFhir<EpisodeOfCare>(input.episode, ['EpisodeOfCare']));
      const { issues } = reportTrajectory({ pseudonymKey: 'k', ...input, episode });
      expect(issues, t.id).toEqual([]);
    }
  });

  it('keeps nothing that identifies the family, and refuses a trajectory it cannot count', () => {
    const t = venray.find((x) => x.ended)!;
    const base = {
      pseudonymKey: 'k',
      org: t.org,
      municipality: t.municipality,
      lifeDomains: t.lifeDomains.map((code) => ({
        system: 'https://ketenpoort.nl/fhir/CodeSystem/life-domain',
        code,
      })),
    };
    const ok = reportTrajectory({ ...base, episode: fixtureEpisode(t) });
    expect(ok.issues).toEqual([]);
    expect(JSON.stringify(ok.trajectory)).not.toContain(t.id);
    expect(JSON.stringify(ok.trajectory)).not.toContain('Patient/');
    expect(ok.trajectory!.key).toBe(
      reportTrajectory({ ...base, episode: fixtureEpisode(t) }).trajectory!.key,
    );
    const refused = (episode: ReturnType<typeof fixtureEpisode>, extra = {}) =>
      reportTrajectory({ ...base, episode, ...extra }).issues.map((i) => i.expression![0]);
    expect(refused({ ...fixtureEpisode(t), period: { start: t.started } })).toEqual([
      'EpisodeOfCare.period.end',
    ]);
    expect(refused({ ...fixtureEpisode(t), period: { start: '2024-01-01', end: '2023-01-01' } })).toEqual([
      'EpisodeOfCare.period.end',
    ]);
    expect(refused({ ...fixtureEpisode(t), identifier: undefined })).toEqual(['EpisodeOfCare.identifier']);
    expect(refused({ ...fixtureEpisode(t), period: { start: '2023-02', end: '2023' } })).toEqual([
      'EpisodeOfCare.period.start',
      'EpisodeOfCare.period.end',
    ]);
    expect(
      refused(fixtureEpisode(t), {
        referralSource: {
          system: 'https://ketenpoort.nl/fhir/CodeSystem/referral-source',
          code: 'neighbour',
        },
      }),
    ).toEqual(['Parameters.parameter[referralSource]']);
  });
});
