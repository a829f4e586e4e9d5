// $validate: the gateway's validation of an incoming resource, answered without storing anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { fhir, patientResource, sandboxToken, testSandbox } from './helpers.js';

describe('$validate', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(() => sandbox.close());

  it('answers a valid resource with an informational outcome and stores nothing', async () => {
    const [before] = await sandbox.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resources');
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient/$validate',
      patientResource('999910140', '2015-01-01'),
    );
    expect(res.status).toBe(200);
    expect(res.body.issue?.[0]?.severity).toBe('information');
    const [after] = await sandbox.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resources');
    expect(after!.n).toBe(before!.n);
  });

  it('lists every problem with its element path, also for a resource wrapped in Parameters', async () => {
    const bad = { ...patientResource('999910141', '2999-01-01'), colour: 'blue' };
    const direct = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Patient/$validate', bad);
    expect(direct.status).toBe(200);
    const paths = direct.body.issue?.flatMap((i) => i.expression ?? []);
    expect(paths).toEqual(
      expect.arrayContaining(['Patient.colour', 'Patient.identifier[0].value', 'Patient.birthDate']),
    );
    const wrapped = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Patient/$validate', {
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: bad }],
    });
    expect(wrapped.body.issue?.length).toBe(direct.body.issue?.length);
  });

  it('answers 400 for a body of another type', async () => {
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent/$validate',
      patientResource('999910140', '2015-01-01'),
    );
    expect(res.status).toBe(400);
  });
});
