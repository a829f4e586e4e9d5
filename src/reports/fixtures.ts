// The synthetic trajectories of fixtures/trajectories, as the sandbox records them for the municipal report: each one
// becomes the Parameters an agency would POST to /reports/$record-trajectory, and goes through the same checks.
import type { Coding, EpisodeOfCare, Parameters } from '@medplum/fhirtypes';
import { CODE_SYSTEM_BASE, PROFILE_BASE } from '../mappings/profiles.js';
import { MUNICIPALITY_SYSTEM } from './municipal.js';

const CS = CODE_SYSTEM_BASE;
const SD = PROFILE_BASE;
export const TRAJECTORY_ID_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/trajectory-id';

export interface FixtureTrajectory {
  /** The recording organisation (`Organization/<id>`) and its own id of the trajectory. */
  org: string;
  id: string;
  municipality: string;
  trajectoryType: string;
  coordinationLevel: string;
  framework: string;
  referralSource?: string;
  started: string;
  ended?: string;
  closureReason?: string;
  lifeDomains: string[];
}

/** The EpisodeOfCare (coordination profile) of a fixture trajectory. */
export function fixtureEpisode(t: FixtureTrajectory): EpisodeOfCare {
  const coding = (id: string, code: string) => ({
    url: `${SD}/${id}`,
    valueCoding: { system: `${CS}/${id}`, code },
  });
  return {
    resourceType: 'EpisodeOfCare',
    meta: { profile: [`${SD}/coordination`] },
    identifier: [{ system: TRAJECTORY_ID_SYSTEM, value: t.id }],
    status: t.ended ? 'finished' : 'active',
    type: [{ coding: [{ system: `${CS}/trajectory-type`, code: t.trajectoryType }] }],
    patient: { reference: `Patient/${t.id.toLowerCase()}-child` },
    managingOrganization: { reference: t.org },
    period: { start: t.started, ...(t.ended ? { end: t.ended } : {}) },
    extension: [
      coding('coordination-level', t.coordinationLevel),
      coding('coordination-framework', t.framework),
      ...(t.closureReason ? [coding('closure-reason', t.closureReason)] : []),
    ],
  };
}

/** What an agency records of a fixture trajectory: the input of reportTrajectory, less the pseudonym key. */
export function fixtureInput(t: FixtureTrajectory): {
  org: string;
  municipality: string;
  episode: EpisodeOfCare;
  referralSource?: Coding;
  lifeDomains: Coding[];
} {
  return {
    org: t.org,
    municipality: t.municipality,
    episode: fixtureEpisode(t),
    referralSource: t.referralSource
      ? { system: `${CS}/referral-source`, code: t.referralSource }
      : undefined,
    lifeDomains: t.lifeDomains.map((code) => ({ system: `${CS}/life-domain`, code })),
  };
}

/** The Parameters of POST /reports/$record-trajectory for a fixture trajectory. */
export function fixtureParameters(t: FixtureTrajectory): Parameters {
  const input = fixtureInput(t);
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'municipality', valueIdentifier: { system: MUNICIPALITY_SYSTEM, value: input.municipality } },
      { name: 'trajectory', resource: input.episode },
      ...(input.referralSource ? [{ name: 'referralSource', valueCoding: input.referralSource }] : []),
      ...input.lifeDomains.map((valueCoding) => ({ name: 'lifeDomain', valueCoding })),
    ],
  };
}
