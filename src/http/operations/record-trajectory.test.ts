// $record-trajectory over HTTP: a coordinating agency records a trajectory (201) and is audited; a role that does not
// coordinate may not.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { fixtureParameters, type FixtureTrajectory } from '../../reports/fixtures.js';
import { operationServer } from '../../../test/operation-server.js';

const trajectory: FixtureTrajectory = {
  org: 'Organization/cjg-venlo',
  id: 'TEST-2026-1',
  municipality: '0988',
  trajectoryType: 'waakvlam',
  coordinationLevel: '2',
  framework: 'voluntary',
  referralSource: 'school',
  started: '2026-02-01',
  lifeDomains: ['parenting', 'education'],
};

describe('reports $record-trajectory', () => {
  const server = operationServer();
  const record = (role: string) =>
    server.call<OperationOutcome>(role, 'POST', '/reports/$record-trajectory', fixtureParameters(trajectory));

  it('records a CJG trajectory for the municipal report, and audits it', async () => {
    const res = await record('cjg');
    expect(res.status).toBe(201);
    expect(res.body.issue?.[0]?.diagnostics).toBe('The trajectory is recorded for the municipal report');
    expect(await server.lastAuditSubtype()).toBe('report-record');
  });

  it('refuses research with 403', async () => {
    const res = await record('research');
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
