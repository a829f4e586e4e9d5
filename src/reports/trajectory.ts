// A trajectory as the municipal report keeps it: coordinating agencies record their trajectories for it without
// anything that identifies the family: the trajectory's type, level and framework, who referred, the life domains,
// start, end and closure reason, under a pseudonym of the agency's own trajectory id.
import { createHmac } from 'node:crypto';
import type { Coding, EpisodeOfCare, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { isCalendarDate } from '../mappings/fields.js';
import { knownCodes } from '../mappings/code-systems.js';
import { CODE_SYSTEM_BASE, PROFILE_BASE } from '../mappings/profiles.js';
import type { ReportTrajectory } from '../store/report-trajectories.js';

export type { ReportTrajectory };

const CS = CODE_SYSTEM_BASE;
const SD = PROFILE_BASE;
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
