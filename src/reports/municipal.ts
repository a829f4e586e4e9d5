// The municipal report: aggregate counts of coordination trajectories for one municipality and period, as a FHIR
// MeasureReport (summary) with small cells suppressed. Coordinating agencies record their trajectories for it without
// anything that identifies the family: the trajectory's type, level and framework, who referred, the life domains,
// start, end and closure reason, under a pseudonym of the agency's own trajectory id.
import { createHmac } from 'node:crypto';
import type {
  CodeableConcept,
  Coding,
  EpisodeOfCare,
  Extension,
  Measure,
  MeasureReport,
  MeasureReportGroup,
  MeasureReportGroupStratifier,
  OperationOutcomeIssue,
} from '@medplum/fhirtypes';
import { isCalendarDate } from '../mappings/fields.js';
import { MUNICIPALITY_SYSTEM } from '../mappings/municipal-case.js';
import { knownCodes } from '../mappings/code-systems.js';
import { CODE_SYSTEM_BASE, flattenConcepts, loadCodeSystems, PROFILE_BASE } from '../mappings/profiles.js';
import { suppress, type Constraint } from './suppression.js';

const CS = CODE_SYSTEM_BASE;
const SD = PROFILE_BASE;
export const REPORT_SYSTEM = `${CS}/municipal-report`;
export const MUNICIPAL_MEASURE_URL = 'https://ketenpoort.nl/fhir/Measure/municipal-report';
export { MUNICIPALITY_SYSTEM };
const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const THRESHOLD_EXTENSION = `${SD}/suppression-threshold`;
const POPULATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/measure-population';
const UNKNOWN = 'unknown';

/** One trajectory as the report keeps it: nothing that identifies the family. */
export interface ReportTrajectory {
  /** HMAC-SHA256 (the gateway's pseudonym key) over the recording organisation and its own trajectory identifier. */
  key: string;
  org: string;
  municipality: string;
  trajectoryType: string;
  coordinationLevel?: string;
  framework?: string;
  referralSource?: string;
  /** YYYY-MM-DD */
  started: string;
  ended?: string;
  closureReason?: string;
  lifeDomains: string[];
}

export interface ReportPeriod {
  label: string;
  /** year, quarter or month; range for two of them joined by a slash. */
  kind: 'year' | 'quarter' | 'month' | 'range';
  /** First and last day, YYYY-MM-DD. */
  start: string;
  end: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const lastDay = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** `2023`, `2023-Q2`, `2023-05`, or a range of two of them (`2005/2007`, `2023-Q1/2023-Q3`); undefined otherwise. */
export function parsePeriod(text: string): ReportPeriod | undefined {
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const first = onePeriod(parts[0]!);
  const last = parts.length === 2 ? onePeriod(parts[1]!) : first;
  if (!first || !last || last.end < first.start) return undefined;
  return { label: text, kind: parts.length === 2 ? 'range' : first.kind, start: first.start, end: last.end };
}

function onePeriod(
  text: string,
): { kind: 'year' | 'quarter' | 'month'; start: string; end: string } | undefined {
  const m = /^(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?$/.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1900 || year > 2999) return undefined;
  const [first, last] = m[2]
    ? [(Number(m[2]) - 1) * 3 + 1, Number(m[2]) * 3]
    : m[3]
      ? [Number(m[3]), Number(m[3])]
      : [1, 12];
  return {
    kind: m[2] ? 'quarter' : m[3] ? 'month' : 'year',
    start: `${year}-${pad(first)}-01`,
    end: `${year}-${pad(last)}-${pad(lastDay(year, last))}`,
  };
}

/** A CBS municipality code: `0984`, `GM0984` or `<system>|0984`; the four digits, or undefined. */
export function parseMunicipality(text: string): string | undefined {
  const value = text.includes('|') ? text.slice(text.indexOf('|') + 1) : text;
  if (text.includes('|') && text.slice(0, text.indexOf('|')) !== MUNICIPALITY_SYSTEM) return undefined;
  return /^(?:GM)?(\d{4})$/i.exec(value)?.[1];
}

/** The codes of one of the gateway's CodeSystems, in their order (read once). */
const codeLists = new Map<string, { code: string; display?: string }[]>();
function codesOf(id: string): { code: string; display?: string }[] {
  let codes = codeLists.get(id);
  if (!codes) {
    const cs = loadCodeSystems().find((c) => c.id === id);
    if (!cs) throw new Error(`CodeSystem ${id} is missing`);
    codes = flattenConcepts(cs.concept).map((c) => ({ code: c.code, display: c.display }));
    codeLists.set(id, codes);
  }
  return codes;
}

const codeFrom = (codings: Coding[] | undefined, system: string) =>
  codings?.find((c) => c.system === system)?.code;
const extCode = (episode: EpisodeOfCare, id: string) =>
  episode.extension?.find((e) => e.url === `${SD}/${id}`)?.valueCoding?.code;

/**
 * The pseudonym a trajectory is kept under: HMAC-SHA256 over the recording organisation and its own identifier of the
 * trajectory (its first identifier with system and value, else its id); undefined when it has neither.
 */
export function trajectoryKey(pseudonymKey: string, org: string, episode: EpisodeOfCare): string | undefined {
  const identifier = episode.identifier?.find((i) => i.system && i.value);
  const localId = identifier ? `${identifier.system}|${identifier.value}` : episode.id;
  return localId ? createHmac('sha256', pseudonymKey).update(`${org}\n${localId}`).digest('hex') : undefined;
}

/**
 * Reads a trajectory for the report from the coordinating agency's EpisodeOfCare (already checked against the
 * coordination profile) and the referral source and life domains it names; issues for what the report cannot use.
 */
export function reportTrajectory(input: {
  pseudonymKey: string;
  org: string;
  municipality: string;
  episode: EpisodeOfCare;
  referralSource?: Coding;
  lifeDomains: Coding[];
}): { trajectory?: ReportTrajectory; issues: OperationOutcomeIssue[] } {
  const { episode } = input;
  const issues: OperationOutcomeIssue[] = [];
  const issue = (diagnostics: string, expression: string) =>
    issues.push({ severity: 'error', code: 'required', diagnostics, expression: [expression] });
  const key = trajectoryKey(input.pseudonymKey, input.org, episode);
  if (!key)
    issue(
      'The trajectory needs an identifier (system and value) or an id, so that a later record replaces this one',
      'EpisodeOfCare.identifier',
    );
  const started = episode.period?.start?.slice(0, 10);
  const ended = episode.period?.end?.slice(0, 10);
  if (!started) issue('The trajectory needs period.start', 'EpisodeOfCare.period.start');
  // The report counts by day: a start or end known only to the month or year cannot be placed in a period.
  if (started && !isCalendarDate(started))
    issue('period.start must be a full, existing date (YYYY-MM-DD)', 'EpisodeOfCare.period.start');
  if (ended && !isCalendarDate(ended))
    issue('period.end must be a full, existing date (YYYY-MM-DD)', 'EpisodeOfCare.period.end');
  if (episode.status === 'finished' && !ended)
    issue('A finished trajectory needs period.end', 'EpisodeOfCare.period.end');
  if (ended && episode.status !== 'finished' && episode.status !== 'cancelled')
    issue('A trajectory with period.end must have status finished (or cancelled)', 'EpisodeOfCare.status');
  if (started && ended && isCalendarDate(started) && isCalendarDate(ended) && ended < started)
    issue('period.end lies before period.start', 'EpisodeOfCare.period.end');
  const trajectoryType = codeFrom(
    episode.type?.flatMap((t) => t.coding ?? []),
    `${CS}/trajectory-type`,
  );
  if (!trajectoryType) issue('The trajectory needs its trajectory type', 'EpisodeOfCare.type');
  if (input.referralSource && input.referralSource.system !== `${CS}/referral-source`)
    issue(`referralSource must be a code of ${CS}/referral-source`, 'Parameters.parameter[referralSource]');
  for (const d of input.lifeDomains)
    if (d.system !== `${CS}/life-domain`)
      issue(`lifeDomain must be a code of ${CS}/life-domain`, 'Parameters.parameter[lifeDomain]');
  const known = (id: string, code: string | undefined, expression: string) => {
    if (code !== undefined && !knownCodes().get(`${CS}/${id}`)?.has(code))
      issues.push({
        severity: 'error',
        code: 'code-invalid',
        diagnostics: `Unknown code "${code}" in ${CS}/${id}`,
        expression: [expression],
      });
  };
  known('referral-source', input.referralSource?.code, 'Parameters.parameter[referralSource]');
  for (const d of input.lifeDomains) known('life-domain', d.code, 'Parameters.parameter[lifeDomain]');
  if (issues.length) return { issues };
  return {
    issues,
    trajectory: {
      key: key!,
      org: input.org,
      municipality: input.municipality,
      trajectoryType: trajectoryType!,
      coordinationLevel: extCode(episode, 'coordination-level'),
      framework: extCode(episode, 'coordination-framework'),
      referralSource: input.referralSource?.code,
      started: started!,
      ended: ended ?? undefined,
      closureReason: extCode(episode, 'closure-reason'),
      lifeDomains: [...new Set(input.lifeDomains.map((d) => d.code!))].sort(),
    },
  };
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
