// POST /reports/$record-trajectory: a coordinating agency records a trajectory for the municipal report (or withdraws
// one recorded in error); nothing that identifies the family is kept. Audited.
import type { EpisodeOfCare } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { checkFhir } from '../../mappings/validate.js';
import { accepted } from '../../fhir/verdict.js';
import { MUNICIPALITY_SYSTEM } from '../../reports/municipal.js';
import { parseMunicipality } from '../../reports/period.js';
import { reportTrajectory, trajectoryKey } from '../../reports/trajectory.js';
import { recordTrajectory, removeTrajectory } from '../../store/report-trajectories.js';
import { audit } from '../../audit/record.js';
import { badRequest, informational, unprocessable } from '../../fhir/outcomes.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { principalOf, sendFhir } from '../http.js';
import { param } from '../operation-spec.js';
import { OperationInput } from '../parameters.js';

async function record(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const input = new OperationInput(req.body);
  const id = input.identifier('municipality', true);
  const municipality = id.system === MUNICIPALITY_SYSTEM ? parseMunicipality(id.value ?? '') : undefined;
  if (!municipality)
    throw badRequest(
      `municipality must be an identifier ${MUNICIPALITY_SYSTEM} with a four-digit CBS code`,
      'Parameters.parameter[municipality]',
    );
  const resource = input.one('trajectory')?.resource;
  if (!resource)
    throw badRequest(
      'Parameter "trajectory" (an EpisodeOfCare) is required',
      'Parameters.parameter[trajectory]',
    );
  const episode = accepted(checkFhir<EpisodeOfCare>(resource, ['EpisodeOfCare']));
  if (episode.status === 'entered-in-error') {
    // A correction: the trajectory should never have been counted.
    const key = trajectoryKey(ctx.config.pseudonymKey, principal.org, episode);
    if (!key)
      throw badRequest(
        'The trajectory needs an identifier (system and value) or an id',
        'EpisodeOfCare.identifier',
      );
    const removed = await ctx.db.transaction(async (tx) => {
      const found = await removeTrajectory(tx, key);
      await audit(tx, principal, {
        subtype: 'report-record',
        outcome: 'success',
        description: `${principal.org} withdrew a trajectory recorded in error from the report of municipality ${municipality}${found ? '' : ' (it was not recorded)'}.`,
        details: { municipality, trajectory: key, result: found ? 'removed' : 'not-found' },
      });
      return found;
    });
    sendFhir(
      res,
      200,
      informational(
        removed
          ? 'The trajectory recorded in error is removed from the municipal report'
          : 'No such trajectory was recorded; nothing to remove',
      ),
    );
    return;
  }
  const { trajectory, issues } = reportTrajectory({
    pseudonymKey: ctx.config.pseudonymKey,
    org: principal.org,
    municipality,
    episode,
    referralSource: input.coding('referralSource'),
    lifeDomains: input.codings('lifeDomain'),
  });
  if (!trajectory) throw unprocessable(issues);
  const outcome = await ctx.db.transaction(async (tx) => {
    const result = await recordTrajectory(tx, trajectory);
    await audit(tx, principal, {
      subtype: 'report-record',
      outcome: 'success',
      description: `${principal.org} recorded a coordination trajectory (${trajectory.trajectoryType}, ${trajectory.ended ? 'closed' : 'open'}) for the report of municipality ${municipality}; nothing that identifies the family was kept.`,
      details: { municipality, trajectory: trajectory.key, result },
    });
    return result;
  });
  sendFhir(
    res,
    outcome === 'created' ? 201 : 200,
    informational(
      outcome === 'created'
        ? 'The trajectory is recorded for the municipal report'
        : 'The earlier record of this trajectory is replaced',
    ),
  );
}

export const recordTrajectoryOperation = defineOperation({
  route: 'POST /reports/$record-trajectory',
  permission: 'report:record',
  summary:
    'Record a coordination trajectory for the municipal report (Parameters: municipality, trajectory, referralSource, lifeDomain); nothing identifying is kept',
  tag: 'Reports',
  description:
    'Records a coordination trajectory for the municipal report, or withdraws one recorded in error; nothing that identifies the family is kept.',
  input: [
    param('municipality', 'Identifier', 1, '1', 'The municipality (CBS code)'),
    param('trajectory', 'EpisodeOfCare', 1, '1', 'The trajectory (status entered-in-error withdraws it)'),
    param('referralSource', 'Coding', 0, '1', 'Who referred the family'),
    param('lifeDomain', 'Coding', 0, '*', 'The life domains the trajectory concerns'),
  ],
  returns: 'OperationOutcome',
  affectsState: true,
  handler: record,
});
