// The municipal report over HTTP: agencies record trajectories, the municipality (its own only), research and the
// privacy officer read aggregate counts with small cells masked; everything is audited, nothing identifying is kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AuditEvent,
  Bundle,
  Extension,
  MeasureReport,
  OperationOutcome,
  Parameters,
} from '@medplum/fhirtypes';
import { fixtureParameters, type FixtureTrajectory } from '../src/reports/fixtures.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import { ENGINES, fhir, freshDatabase, sandboxToken, testSandbox } from './helpers.js';

/** The data-absent-reason of a count left out. */
const masked = (population: object) =>
  (population as { _count?: { extension?: Extension[] } })._count?.extension?.[0];
const count = (r: MeasureReport, code: string) =>
  r.group!.find((g) => g.code!.coding![0]!.code === code)!.population![0]!;

const trajectory = (n: number, extra: Partial<FixtureTrajectory> = {}): FixtureTrajectory => ({
  org: 'Organization/cjg-venlo',
  id: `TEST-2026-${n}`,
  municipality: '0988',
  trajectoryType: 'waakvlam',
  coordinationLevel: '2',
  framework: 'voluntary',
  referralSource: 'school',
  started: '2026-02-01',
  lifeDomains: ['parenting', 'education'],
  ...extra,
});

describe.each(ENGINES)('municipal report on %s', (engine) => {
  let sandbox: RunningSandbox;
  let db: Database;
  let drop: () => Promise<void>;
  const tokens: Record<string, string> = {};
  const report = (role: string, query: string) =>
    fhir<MeasureReport>(sandbox.url, tokens[role], 'GET', `/reports/$municipal?${query}`);
  const record = (role: string, body: unknown) =>
    fhir<OperationOutcome>(sandbox.url, tokens[role], 'POST', '/reports/$record-trajectory', body);

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    sandbox = await testSandbox({}, db);
    for (const role of ['municipality', 'research', 'privacy-officer', 'cjg', 'gp', 'youth-care'])
      tokens[role] = await sandboxToken(sandbox, role);
  });
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('gives the municipality its own report (Venlo 2005–2007: 81 referrals, 71 closed, 10 open), and audits it', async () => {
    const res = await report('municipality', 'period=2005/2007');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      resourceType: 'MeasureReport',
      type: 'summary',
      status: 'complete',
      measure: 'https://ketenpoort.nl/fhir/Measure/municipal-report',
      period: { start: '2005-01-01', end: '2007-12-31' },
      reporter: { identifier: { value: '0983' }, display: 'Gemeente Venlo' },
    });
    expect([
      count(res.body, 'inflow').count,
      count(res.body, 'outflow').count,
      count(res.body, 'open-end').count,
    ]).toEqual([81, 71, 10]);
    const [row] = await db.query<{ content: AuditEvent }>(
      `SELECT content FROM audit_events WHERE subtype = 'municipal-report' ORDER BY seq DESC LIMIT 1`,
    );
    expect(row!.content.outcome).toBe('0');
    expect(row!.content.outcomeDesc).toContain('0983');
  });

  it("refuses a municipality another municipality's report, and records the refusal", async () => {
    const res = await report('municipality', 'period=2023&municipality=0984');
    expect(res.status).toBe(403);
    expect((res.body as unknown as OperationOutcome).resourceType).toBe('OperationOutcome');
    const [row] = await db.query<{ outcome: string }>(
      `SELECT outcome FROM audit_events WHERE subtype = 'municipal-report' ORDER BY seq DESC LIMIT 1`,
    );
    expect(row!.outcome).toBe('denied');
  });

  it("gives research and the privacy officer any municipality's report (Venray 2023: 285 in care, 173 closed, 112 open)", async () => {
    for (const role of ['research', 'privacy-officer']) {
      const res = await report(role, 'period=2023&municipality=GM0984');
      expect(res.status).toBe(200);
      expect([
        count(res.body, 'in-care').count,
        count(res.body, 'outflow').count,
        count(res.body, 'open-end').count,
      ]).toEqual([285, 173, 112]);
    }
  });

  it('refuses every other role with 403', async () => {
    for (const role of ['cjg', 'gp', 'youth-care']) {
      const res = await report(role, 'period=2023&municipality=0984');
      expect(res.status, role).toBe(403);
    }
    const person = await fetch(`${sandbox.url}/sandbox/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ patient: '999910036' }),
    });
    const { access_token } = (await person.json()) as { access_token: string };
    expect(
      (await fhir(sandbox.url, access_token, 'GET', '/reports/$municipal?period=2023&municipality=0984'))
        .status,
    ).toBe(403);
    expect(
      (await fhir(sandbox.url, undefined, 'GET', '/reports/$municipal?period=2023&municipality=0984')).status,
    ).toBe(401);
  });

  it('answers a bad period or municipality with 400 and an OperationOutcome', async () => {
    for (const query of [
      'period=2023-13&municipality=0984',
      'municipality=0984',
      'period=2023&municipality=Venray',
      'period=2023',
    ]) {
      const res = await report('privacy-officer', query);
      expect(res.status, query).toBe(400);
      expect((res.body as unknown as OperationOutcome).resourceType).toBe('OperationOutcome');
    }
  });

  it('records trajectories without anything identifying, replaces a re-recorded one, and masks small counts', async () => {
    const first = await record('cjg', fixtureParameters(trajectory(1)));
    expect(first.status).toBe(201);
    const again = await record(
      'cjg',
      fixtureParameters(trajectory(1, { ended: '2026-06-30', closureReason: 'goals-achieved' })),
    );
    expect(again.status).toBe(200);
    const rows = await db.query<Record<string, unknown>>(
      `SELECT * FROM report_trajectories WHERE municipality = '0988'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.closure_reason).toBe('goals-achieved');
    expect(JSON.stringify(rows)).not.toMatch(/TEST-2026|Patient\//);
    // One trajectory in 2026: every count of it is below the threshold and masked.
    let res = await report('privacy-officer', 'period=2026&municipality=0988');
    expect(count(res.body, 'in-care').count).toBeUndefined();
    expect(masked(count(res.body, 'in-care'))).toEqual({
      url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason',
      valueCode: 'masked',
    });
    for (let n = 2; n <= 6; n++)
      expect((await record('cjg', fixtureParameters(trajectory(n)))).status).toBe(201);
    res = await report('privacy-officer', 'period=2026&municipality=0988');
    expect(count(res.body, 'in-care').count).toBe(6);
    const audited = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE subtype = 'report-record' AND content::text LIKE '%municipality 0988%'`,
    );
    expect(audited[0]!.n).toBe(7);
  });

  it('removes a trajectory the agency marks entered-in-error, and audits the correction', async () => {
    const inError = withEpisode(trajectory(6), (e) => ({ ...e, status: 'entered-in-error' }));
    const first = await record('cjg', inError);
    expect(first.status).toBe(200);
    expect(first.body.issue![0]!.diagnostics).toContain('removed');
    const [left] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM report_trajectories WHERE municipality = '0988'`,
    );
    expect(left!.n).toBe(5);
    const again = await record('cjg', inError);
    expect(again.body.issue![0]!.diagnostics).toContain('nothing to remove');
    // Another organisation cannot remove it: its pseudonym differs.
    expect(
      (
        await record(
          'youth-care',
          withEpisode(trajectory(5), (e) => ({ ...e, status: 'entered-in-error' })),
        )
      ).body.issue![0]!.diagnostics,
    ).toContain('nothing to remove');
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE subtype = 'report-record' AND content::text LIKE '%recorded in error%'`,
    );
    expect(row!.n).toBe(3);
  });

  it('refuses a trajectory it cannot count with 400 or 422, and other roles with 403, writing nothing', async () => {
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM report_trajectories'))[0]!
      .n;
    const cases: [string, unknown, number][] = [
      ['cjg', { resourceType: 'Parameters', parameter: [] }, 400],
      [
        'cjg',
        {
          ...fixtureParameters(trajectory(20)),
          parameter: fixtureParameters(trajectory(20)).parameter!.map((p) =>
            p.name === 'municipality' ? { ...p, valueIdentifier: { ...p.valueIdentifier, value: '98' } } : p,
          ),
        },
        400,
      ],
      ['cjg', fixtureParameters(trajectory(21, { trajectoryType: 'unknown-kind' })), 422],
      ['cjg', withEpisode(trajectory(22), (e) => ({ ...e, status: 'finished' })), 422],
      ['cjg', withEpisode(trajectory(23), (e) => ({ ...e, type: undefined })), 422],
      ['cjg', fixtureParameters(trajectory(24, { lifeDomains: ['gardening'] })), 422],
      ['cjg', fixtureParameters(trajectory(27, { started: '2026-02' })), 422],
      ['cjg', fixtureParameters(trajectory(28, { started: '2026-02-30' })), 422],
      ['gp', fixtureParameters(trajectory(25)), 403],
      ['municipality', fixtureParameters(trajectory(26)), 403],
    ];
    for (const [role, body, status] of cases) {
      const res = await record(role, body);
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBe(status);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const after = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM report_trajectories'))[0]!.n;
    expect(after).toBe(before);
  });

  it('records the fixture trajectories once, also when the sandbox starts again on the same database', async () => {
    const seeded = async () =>
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_events WHERE subtype = 'report-record' AND content::text LIKE '%sandbox-seed%'`,
        )
      )[0]!.n;
    expect(await seeded()).toBe(81 + 478);
    const again = await testSandbox({}, db);
    await again.close();
    expect(await seeded()).toBe(81 + 478);
    const res = await report('research', 'period=2023&municipality=0984');
    expect(count(res.body, 'in-care').count).toBe(285);
  });

  it('serves the Measure without a token and lists the report in the CapabilityStatement and OpenAPI', async () => {
    const measure = await fhir(sandbox.url, undefined, 'GET', '/fhir/Measure/municipal-report');
    expect(measure.status).toBe(200);
    expect(measure.body).toMatchObject({
      resourceType: 'Measure',
      url: 'https://ketenpoort.nl/fhir/Measure/municipal-report',
    });
    expect((await fhir(sandbox.url, undefined, 'GET', '/fhir/Measure/other')).status).toBe(404);
    const openapi = (await (await fetch(`${sandbox.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/reports/$municipal', '/reports/$record-trajectory']),
    );
    const municipal = (
      openapi.paths['/reports/$municipal'] as { get: { parameters: { name: string; in: string }[] } }
    ).get;
    expect(municipal.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
      'query:period',
      'query:municipality',
    ]);
    const caps = await fhir<Bundle>(sandbox.url, undefined, 'GET', '/fhir/metadata');
    expect(JSON.stringify(caps.body)).toContain('"Measure"');
    expect(JSON.stringify(caps.body)).toContain('GET /reports/$municipal');
  });
});

function withEpisode(
  t: FixtureTrajectory,
  change: (e: Record<string, unknown>) => Record<string, unknown>,
): Parameters {
  const p = fixtureParameters(t);
  return {
    ...p,
    parameter: p.parameter!.map((x) =>
      x.name === 'trajectory'
        ? { ...x, resource: change(x.resource as unknown as Record<string, unknown>) as never }
        : x,
    ),
  };
}

describe('municipal report periods restricted by REPORT_PERIODS', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await testSandbox({ reportPeriods: ['year'] });
  });
  afterAll(() => sandbox?.close());

  it('answers only the periods the gateway is set to report by, so that reports cannot be differenced', async () => {
    const token = await sandboxToken(sandbox, 'research');
    const get = (period: string) =>
      fhir<OperationOutcome>(
        sandbox.url,
        token,
        'GET',
        `/reports/$municipal?period=${period}&municipality=0984`,
      );
    expect((await get('2023')).status).toBe(200);
    for (const period of ['2023-Q2', '2023-05', '2022/2023']) {
      const res = await get(period);
      expect(res.status, period).toBe(400);
      expect(res.body.issue![0]!.diagnostics).toContain('REPORT_PERIODS');
    }
  });
});
