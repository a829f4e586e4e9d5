// $record-trajectory over HTTP: a coordinating agency records a trajectory (201) and is audited; a role that does not
// coordinate may not.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureParameters, type FixtureTrajectory } from '../../reports/fixtures.js';
import type { RunningSandbox } from '../../sandbox/index.js';
import { fhir, sandboxToken, testSandbox } from '../../../test/helpers.js';

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
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
  });
  afterAll(() => sandbox?.close());
  const record = async (role: string) =>
    fhir<OperationOutcome>(
      sandbox.url,
      await sandboxToken(sandbox, role),
      'POST',
      '/reports/$record-trajectory',
      fixtureParameters(trajectory),
    );

  it('records a CJG trajectory for the municipal report, and audits it', async () => {
    const res = await record('cjg');
    expect(res.status).toBe(201);
    expect(res.body.issue?.[0]?.diagnostics).toBe('The trajectory is recorded for the municipal report');
    const [last] = await sandbox.ctx.db.query<{ subtype: string }>(
      'SELECT subtype FROM audit_events ORDER BY seq DESC LIMIT 1',
    );
    expect(last?.subtype).toBe('report-record');
  });

  it('refuses research with 403', async () => {
    const res = await record('research');
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
