// POST /reports/$record-trajectory: a coordinating agency records a trajectory for the municipal report (or withdraws
// one recorded in error); nothing that identifies the family is kept. Audited.
import type { EpisodeOfCare } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { checkFhir } from '../../mappings/validate.js';
import { accepted } from '../../fhir/verdict.js';
import { MUNICIPALITY_SYSTEM } from '../../reports/municipal.js';
import { parseMunicipality } from '../../reports/period.js';
import { recordReportTrajectory, type TrajectoryOutcome } from '../../reports/record-trajectory.js';
import { badRequest, informational } from '../../fhir/outcomes.js';
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
      `municipality moet een identifier ${MUNICIPALITY_SYSTEM} met een CBS-code van vier cijfers zijn / municipality must be an identifier ${MUNICIPALITY_SYSTEM} with a four-digit CBS code`,
      'Parameters.parameter[municipality]',
    );
  const resource = input.one('trajectory')?.resource;
  if (!resource)
    throw badRequest(
      'Parameter "trajectory" (een EpisodeOfCare) is verplicht / Parameter "trajectory" (an EpisodeOfCare) is required',
      'Parameters.parameter[trajectory]',
    );
  const episode = accepted(checkFhir<EpisodeOfCare>(resource, ['EpisodeOfCare']));
  // A withdrawal (status entered-in-error) reads nothing but the trajectory.
  const withdrawal = episode.status === 'entered-in-error';
  const outcome = await recordReportTrajectory(ctx, principal, {
    municipality,
    episode,
    referralSource: withdrawal ? undefined : input.coding('referralSource'),
    lifeDomains: withdrawal ? [] : input.codings('lifeDomain'),
  });
  sendFhir(res, outcome === 'created' ? 201 : 200, informational(MESSAGES[outcome]));
}

const MESSAGES: Record<TrajectoryOutcome, string> = {
  created: 'The trajectory is recorded for the municipal report',
  updated: 'The earlier record of this trajectory is replaced',
  removed: 'The trajectory recorded in error is removed from the municipal report',
  'not-found': 'No such trajectory was recorded; nothing to remove',
};

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
