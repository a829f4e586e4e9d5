// Recording a trajectory for the municipal report, or withdrawing one recorded in error: the trajectory is kept under
// a pseudonym, nothing that identifies the family is kept, and the change is on record in its own transaction.
import type { Coding, EpisodeOfCare } from '@medplum/fhirtypes';
import type { GatewayContext } from '../context.js';
import type { Principal } from '../auth/access.js';
import { audit } from '../audit/record.js';
import { badRequest, unprocessable } from '../fhir/outcomes.js';
import { recordTrajectory, removeTrajectory } from '../store/report-trajectories.js';
import { reportTrajectory, trajectoryKey } from './trajectory.js';

export interface TrajectoryInput {
  /** The municipality's four-digit CBS code. */
  municipality: string;
  /** The trajectory; status entered-in-error withdraws it. */
  episode: EpisodeOfCare;
  referralSource?: Coding;
  lifeDomains: Coding[];
}

/** What became of the trajectory: recorded anew, its earlier record replaced, or (a withdrawal) removed or not found. */
export type TrajectoryOutcome = 'created' | 'updated' | 'removed' | 'not-found';

export async function recordReportTrajectory(
  ctx: Pick<GatewayContext, 'db' | 'config'>,
  principal: Principal,
  input: TrajectoryInput,
): Promise<TrajectoryOutcome> {
  const { municipality, episode } = input;
  if (episode.status === 'entered-in-error') {
    // A correction: the trajectory should never have been counted.
    const key = trajectoryKey(ctx.config.pseudonymKey, principal.org, episode);
    if (!key)
      throw badRequest(
        'Het traject heeft een identifier (system en value) of een id nodig / The trajectory needs an identifier (system and value) or an id',
        'EpisodeOfCare.identifier',
      );
    return ctx.db.transaction(async (tx) => {
      const found = await removeTrajectory(tx, key);
      await audit(tx, principal, {
        subtype: 'report-record',
        outcome: 'success',
        description: `${principal.org} withdrew a trajectory recorded in error from the report of municipality ${municipality}${found ? '' : ' (it was not recorded)'}.`,
        details: { municipality, trajectory: key, result: found ? 'removed' : 'not-found' },
      });
      return found ? 'removed' : 'not-found';
    });
  }
  const { trajectory, issues } = reportTrajectory({
    pseudonymKey: ctx.config.pseudonymKey,
    org: principal.org,
    municipality,
    episode,
    referralSource: input.referralSource,
    lifeDomains: input.lifeDomains,
  });
  if (!trajectory) throw unprocessable(issues);
  return ctx.db.transaction(async (tx) => {
    const result = await recordTrajectory(tx, trajectory);
    await audit(tx, principal, {
      subtype: 'report-record',
      outcome: 'success',
      description: `${principal.org} recorded a coordination trajectory (${trajectory.trajectoryType}, ${trajectory.ended ? 'closed' : 'open'}) for the report of municipality ${municipality}; nothing that identifies the family was kept.`,
      details: { municipality, trajectory: trajectory.key, result },
    });
    return result;
  });
}
