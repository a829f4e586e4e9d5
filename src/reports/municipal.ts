// The municipal report: aggregate counts of coordination trajectories for one municipality and period, as a FHIR
// MeasureReport (summary) with small cells suppressed, and the Measure it is an instance of. The trajectories it counts
// are recorded as trajectory.ts keeps them; the period and municipality are read by period.ts.
import { readOnce } from '../reference-data.js';
import type {
  CodeableConcept,
  Extension,
  Measure,
  MeasureReport,
  MeasureReportGroup,
  MeasureReportGroupStratifier,
} from '@medplum/fhirtypes';
import { MUNICIPALITY_SYSTEM } from '../mappings/municipal-case.js';
import { CODE_SYSTEM_BASE, flattenConcepts, loadCodeSystems, PROFILE_BASE } from '../mappings/profiles.js';
import type { ReportPeriod } from './period.js';
import { suppress, type Constraint } from './suppression.js';
import type { ReportTrajectory } from './trajectory.js';

const CS = CODE_SYSTEM_BASE;
const SD = PROFILE_BASE;
export const REPORT_SYSTEM = `${CS}/municipal-report`;
export const MUNICIPAL_MEASURE_URL = 'https://ketenpoort.nl/fhir/Measure/municipal-report';
export { MUNICIPALITY_SYSTEM };
const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const THRESHOLD_EXTENSION = `${SD}/suppression-threshold`;
const POPULATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/measure-population';
const UNKNOWN = 'unknown';

/** The codes of each of the gateway's CodeSystems, in their order, by id. */
const codeLists = readOnce(
  (): ReadonlyMap<string, readonly { code: string; display?: string }[]> =>
    new Map(
      loadCodeSystems().map((cs) => [
        cs.id!,
        flattenConcepts(cs.concept).map((c) => ({ code: c.code, display: c.display })),
      ]),
    ),
);
function codesOf(id: string): readonly { code: string; display?: string }[] {
  const codes = codeLists().get(id);
  if (!codes) throw new Error(`CodeSystem ${id} is missing`);
  return codes;
}

/** The counts of a period and the sums they are known to make up (for the suppression). */
export function periodCounts(
  rows: readonly Pick<
    ReportTrajectory,
    'trajectoryType' | 'referralSource' | 'started' | 'ended' | 'closureReason' | 'lifeDomains'
  >[],
  period: ReportPeriod,
): { counts: Map<string, number>; constraints: Constraint[]; durations: Map<string, number[]> } {
  const counts = new Map<string, number>();
  const add = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const strata = (prefix: string, codes: string[]) => codes.map((c) => `${prefix}/${c}`);
  const sources = [...codesOf('referral-source').map((c) => c.code), UNKNOWN];
  const reasons = [...codesOf('closure-reason').map((c) => c.code), UNKNOWN];
  const types = codesOf('trajectory-type').map((c) => c.code);
  const domains = codesOf('life-domain').map((c) => c.code);
  for (const name of [
    'in-care',
    'open-start',
    'inflow',
    'outflow',
    'open-end',
    ...strata('inflow/referral-source', sources),
    ...strata('outflow/closure-reason', reasons),
    ...strata('in-care/trajectory-type', types),
    ...strata('outflow/trajectory-type', types),
    ...strata('in-care/life-domain', domains),
  ])
    counts.set(name, 0);
  const durations = new Map<string, number[]>([
    ['outflow', []],
    ...types.map((t) => [t, []] as [string, number[]]),
  ]);
  for (const r of rows) {
    if (r.started > period.end || (r.ended !== undefined && r.ended < period.start)) continue;
    add('in-care');
    add(`in-care/trajectory-type/${r.trajectoryType}`);
    for (const d of r.lifeDomains) add(`in-care/life-domain/${d}`);
    if (r.started < period.start) add('open-start');
    else {
      add('inflow');
      add(`inflow/referral-source/${r.referralSource ?? UNKNOWN}`);
    }
    if (r.ended !== undefined && r.ended <= period.end) {
      add('outflow');
      add(`outflow/closure-reason/${r.closureReason ?? UNKNOWN}`);
      add(`outflow/trajectory-type/${r.trajectoryType}`);
      const days = Math.round((Date.parse(r.ended) - Date.parse(r.started)) / 86_400_000);
      durations.get('outflow')!.push(days);
      durations.get(r.trajectoryType)?.push(days);
    } else add('open-end');
  }
  const constraints: Constraint[] = [
    { total: 'in-care', cells: ['open-start', 'inflow'] },
    { total: 'in-care', cells: ['outflow', 'open-end'] },
    { total: 'inflow', cells: strata('inflow/referral-source', sources) },
    { total: 'outflow', cells: strata('outflow/closure-reason', reasons) },
    { total: 'in-care', cells: strata('in-care/trajectory-type', types) },
    { total: 'outflow', cells: strata('outflow/trajectory-type', types) },
  ];
  return { counts, constraints, durations };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const reportCode = (code: string): CodeableConcept => {
  const concept = codesOf('municipal-report').find((c) => c.code === code);
  return { coding: [{ system: REPORT_SYSTEM, code, display: concept?.display }] };
};
const masked: Extension[] = [{ url: DATA_ABSENT, valueCode: 'masked' }];

export interface MunicipalReportInput {
  municipality: string;
  municipalityName?: string;
  period: ReportPeriod;
  rows: Parameters<typeof periodCounts>[0];
  threshold: number;
  generated?: Date;
}

/** The MeasureReport of one municipality and period; every count below the threshold, or that would give one away, is left out. */
export function municipalReport(input: MunicipalReportInput): MeasureReport {
  const { counts, constraints, durations } = periodCounts(input.rows, input.period);
  const { published } = suppress(counts, constraints, input.threshold);
  /** A population with its count, or without it and marked as masked. */
  const population = (name: string) => {
    const count = published.get(name);
    return [
      {
        code: { coding: [{ system: POPULATION_SYSTEM, code: 'initial-population' }] },
        ...(count !== undefined ? { count } : { _count: { extension: masked } }),
      },
    ];
  };
  /** Median days, only over a published count of at least the threshold. */
  const score = (name: string, values: number[] | undefined) => {
    const count = published.get(name);
    if (count === undefined || count < input.threshold || !values?.length) return {};
    return {
      measureScore: { value: median(values), unit: 'd', system: 'http://unitsofmeasure.org', code: 'd' },
    };
  };
  /** The strata of a group by one of the gateway's CodeSystems (`by` names both the stratifier and the system). */
  const stratifier = (
    group: string,
    by: string,
    opts: { scores?: boolean } = {},
  ): MeasureReportGroupStratifier => ({
    code: [reportCode(by)],
    stratum: [...codesOf(by), { code: UNKNOWN }]
      // "Not stated" appears only when some record did not state it.
      .filter((c) => c.code !== UNKNOWN || counts.get(`${group}/${by}/${UNKNOWN}`))
      .map((c) => ({
        value:
          c.code === UNKNOWN
            ? reportCode(UNKNOWN)
            : { coding: [{ system: `${CS}/${by}`, code: c.code, display: c.display }] },
        population: population(`${group}/${by}/${c.code}`),
        ...(opts.scores ? score(`${group}/${by}/${c.code}`, durations.get(c.code)) : {}),
      })),
  });
  const simple = (code: string, extra: Partial<MeasureReportGroup> = {}): MeasureReportGroup => ({
    code: reportCode(code),
    population: population(code),
    ...extra,
  });
  const group: MeasureReportGroup[] = [
    simple('in-care', { stratifier: [stratifier('in-care', 'trajectory-type')] }),
    simple('open-start'),
    simple('inflow', { stratifier: [stratifier('inflow', 'referral-source')] }),
    simple('outflow', { stratifier: [stratifier('outflow', 'closure-reason')] }),
    simple('open-end'),
    {
      code: reportCode('throughput-time'),
      population: population('outflow'),
      ...score('outflow', durations.get('outflow')),
      stratifier: [stratifier('outflow', 'trajectory-type', { scores: true })],
    },
    {
      code: reportCode('life-domain'),
      stratifier: [stratifier('in-care', 'life-domain')],
    },
  ];
  return {
    resourceType: 'MeasureReport',
    status: 'complete',
    type: 'summary',
    measure: MUNICIPAL_MEASURE_URL,
    date: (input.generated ?? new Date()).toISOString(),
    period: { start: input.period.start, end: input.period.end },
    reporter: {
      identifier: { system: MUNICIPALITY_SYSTEM, value: input.municipality },
      ...(input.municipalityName ? { display: input.municipalityName } : {}),
    },
    extension: [{ url: THRESHOLD_EXTENSION, valueInteger: input.threshold }],
    group,
  };
}

/** The Measure the reports are instances of: what each group and stratifier counts. */
export function municipalMeasure(): Measure {
  const concepts = loadCodeSystems().find((c) => c.id === 'municipal-report')!.concept ?? [];
  const definition = (code: string) => concepts.find((c) => c.code === code)?.definition;
  const stratifier = (code: string) => ({ code: reportCode(code), description: definition(code) });
  // Which trajectories (EpisodeOfCare) each population holds, over the period asked for.
  const inCare = 'period.start <= %periodEnd and (period.end.empty() or period.end >= %periodStart)';
  const outflow = 'period.end >= %periodStart and period.end <= %periodEnd';
  const criteria: Record<string, string> = {
    'in-care': inCare,
    'open-start': 'period.start < %periodStart and (period.end.empty() or period.end >= %periodStart)',
    inflow: 'period.start >= %periodStart and period.start <= %periodEnd',
    outflow,
    'open-end': 'period.start <= %periodEnd and (period.end.empty() or period.end > %periodEnd)',
    'throughput-time': outflow,
    'life-domain': inCare,
  };
  const group = (code: string, stratifiers: string[] = []) => ({
    code: reportCode(code),
    description: definition(code),
    population: [
      {
        code: { coding: [{ system: POPULATION_SYSTEM, code: 'initial-population' }] },
        criteria: { language: 'text/fhirpath' as const, expression: criteria[code] },
      },
    ],
    ...(stratifiers.length ? { stratifier: stratifiers.map(stratifier) } : {}),
  });
  return {
    resourceType: 'Measure',
    id: 'municipal-report',
    url: MUNICIPAL_MEASURE_URL,
    version: '0.1.0',
    name: 'MunicipalReport',
    title: 'Municipal report on family care coordination',
    status: 'active',
    publisher: 'Ketenpoort',
    description:
      'Aggregate counts of coordination trajectories per municipality and period: families in care, open at the start, inflow by referral source, outflow by closure reason, open at the end, throughput time (median days) by trajectory type, and life domains. Counts below the suppression threshold, and counts that would let one be worked out from the others, are left out (data-absent-reason masked).',
    subjectCodeableConcept: {
      coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'EpisodeOfCare' }],
    },
    scoring: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/measure-scoring', code: 'cohort' }],
    },
    group: [
      group('in-care', ['trajectory-type']),
      group('open-start'),
      group('inflow', ['referral-source']),
      group('outflow', ['closure-reason']),
      group('open-end'),
      group('throughput-time', ['trajectory-type']),
      group('life-domain', ['life-domain']),
    ],
  };
}
