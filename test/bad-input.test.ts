// Bad input gets a clear OperationOutcome (400/413/422), never a 500, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Consent, OperationOutcome, Parameters, Patient, Task } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { BSN_SYSTEM, createResource } from '../src/store/resources.js';
import {
  consentResource,
  ENGINES,
  carePlanPayload,
  exchangeParameters,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  legalBasisParameters,
  param,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';
import { rowCounts, tablesOf } from './row-counts.js';

describe('bad input', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  const counts = async () => {
    const [r] = await sandbox.ctx.db.query<{ resources: number; audit: number; jobs: number }>(
      // A refused request is on record (subtype refusal) by design; nothing else may be written.
      "SELECT (SELECT count(*)::int FROM resources) AS resources, (SELECT count(*)::int FROM audit_events WHERE subtype <> 'refusal') AS audit, (SELECT count(*)::int FROM delivery_jobs) AS jobs",
    );
    return r!;
  };
  beforeAll(async () => {
    sandbox = await testSandbox();
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(() => sandbox.close());

  it('answers invalid JSON with 400 and stores nothing', async () => {
    const before = await counts();
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      '{"resourceType": "Patient",',
    );
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
    expect(await counts()).toEqual(before);
  });

  it('answers a wrong resourceType with 400', async () => {
    const before = await counts();
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Patient', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
    });
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/Expected resourceType Patient/);
    expect(await counts()).toEqual(before);
  });

  it('answers a Consent without patient with 422 naming the element, and stores nothing', async () => {
    const before = await counts();
    const { patient: _none, ...consent } = consentResource(
      'Patient/x',
      ['Patient/x'],
      ['Organization/huisartsen-de-linde'],
      ['CAREMGT'],
    );
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Consent', consent);
    expect(res.status).toBe(422);
    expect(res.body.issue?.some((i) => i.expression?.includes('Consent.patient'))).toBe(true);
    expect(await counts()).toEqual(before);
  });

  it('answers a profile violation (unknown element, invalid BSN) with 422 and element paths', async () => {
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Patient', {
      ...patientResource('999911121', '2015-01-01'),
      hairColour: 'red',
    });
    expect(res.status).toBe(422);
    const paths = res.body.issue?.flatMap((i) => i.expression ?? []);
    expect(paths).toContain('Patient.hairColour');
    expect(paths).toContain('Patient.identifier[0].value');
  });

  it('answers a 5 MB body with 413 and stores nothing', async () => {
    const before = await counts();
    const huge = JSON.stringify({
      ...patientResource(testBsn(), '2015-01-01'),
      text: { status: 'generated', div: `<div>${'x'.repeat(5 * 1024 * 1024)}</div>` },
    });
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/Patient', huge);
    expect(res.status).toBe(413);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await counts()).toEqual(before);
  });

  it('rolls back a whole transaction Bundle when one entry is invalid', async () => {
    const before = await counts();
    const bsn = testBsn();
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:a',
          resource: patientResource(bsn, isoDateYearsAgo(8)),
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { resourceType: 'Consent', status: 'active' },
          request: { method: 'POST', url: 'Consent' },
        },
      ],
    });
    expect(res.status).toBe(422);
    expect(await counts()).toEqual(before);
    const search = await fhir<{ total: number }>(
      sandbox.url,
      cjg,
      'GET',
      `/fhir/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|${bsn}`,
    );
    expect(search.body.total).toBe(0);
  });

  it('answers $exchange without required parameters with 400, and an unknown recipient with 422', async () => {
    const missing = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/$exchange', {
      resourceType: 'Parameters',
      parameter: [],
    });
    expect(missing.status).toBe(400);
    expect(missing.body.issue?.[0]?.diagnostics).toMatch(/subject/);
    const payload: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [] };
    const unknown = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/nope', '999910036', 'CAREMGT', payload),
    );
    expect(unknown.status).toBe(422);
  });

  it('checks the gateway rules inside an exchange payload too: a wrong BSN in the Bundle is a 422 with its path', async () => {
    const before = await counts();
    const payload: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: patientResource('999910141', '2015-01-01') }],
    };
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/huisartsen-de-linde', '999910036', 'CAREMGT', payload),
    );
    expect(res.status).toBe(422);
    expect(res.body.issue?.flatMap((i) => i.expression ?? [])).toContain(
      'Parameters.parameter[3].resource.entry[0].resource.identifier[0].value',
    );
    expect(await counts()).toEqual(before);
  });

  it('answers unknown routes and unknown search parameters with OperationOutcomes', async () => {
    expect((await fhir(sandbox.url, cjg, 'GET', '/fhir/Observation/1')).status).toBe(404);
    const bad = await fhir<OperationOutcome>(sandbox.url, cjg, 'GET', '/fhir/Patient?colour=red');
    expect(bad.status).toBe(400);
    expect(bad.body.issue?.[0]?.diagnostics).toMatch(/Unknown search parameter "colour"/);
  });

  it('answers bad report input with 400, 413 or 422 and an OperationOutcome, never a 500, and stores nothing', async () => {
    const before = await counts();
    const trajectories = async () =>
      (await sandbox.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM report_trajectories'))[0]!.n;
    const stored = await trajectories();
    const post = (body: unknown) =>
      fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/reports/$record-trajectory', body);
    for (const [body, status] of [
      ['{"resourceType": "Parameters",', 400],
      [[1, 2, 3], 400],
      [{ resourceType: 'Patient' }, 400],
      [
        {
          resourceType: 'Parameters',
          parameter: [{ name: 'trajectory', resource: { resourceType: 'Patient' } }],
        },
        422,
      ],
      [{ resourceType: 'Parameters', parameter: [{ name: 'municipality', valueString: 'Venlo' }] }, 400],
      [
        `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"${'a'.repeat(5_000_000)}"}]}`,
        413,
      ],
    ] as const) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    for (const query of [
      'period[]=2023&municipality=0984',
      'period=2023&period=2024&municipality=0984',
      'period=9999-Q9',
    ]) {
      const res = await fhir<OperationOutcome>(sandbox.url, officer, 'GET', `/reports/$municipal?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect(await trajectories()).toBe(stored);
    expect((await counts()).resources).toBe(before.resources);
  });
});

describe.each(ENGINES)('hostile input on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  let officer: string;
  let tables: string[];
  const counts = () => rowCounts(sandbox.ctx.db, tables);
  /** Sends a request that must be refused: a 400/404/422 OperationOutcome, and not one row more or less anywhere. */
  const refused = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    token = cjg,
  ) => {
    const before = await counts();
    const res = await fhir<OperationOutcome>(sandbox.url, token, method, path, body, headers);
    const what = `${method} ${path} ${typeof body === 'string' ? body.slice(0, 60) : JSON.stringify(body)?.slice(0, 60)}`;
    expect([400, 404, 422], what).toContain(res.status);
    expect(res.body.resourceType, what).toBe('OperationOutcome');
    expect(await counts(), what).toEqual(before);
    return res;
  };
  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
    officer = await sandboxToken(sandbox, 'privacy-officer');
    tables = await tablesOf(sandbox.ctx.db);
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('refuses FHIR JSON with nulls or with objects and strings where R4 has arrays, naming the element', async () => {
    const patient = patientResource(testBsn(), '2015-01-01');
    for (const [body, path] of [
      [{ ...patient, identifier: {} }, 'Patient.identifier'],
      [{ ...patient, extension: 'x' }, 'Patient.extension'],
      [{ ...patient, meta: { profile: {} } }, 'Patient.meta.profile'],
      [{ ...patient, name: [{ family: null }] }, 'Patient.name[0].family'],
      [{ ...patient, birthDate: null }, 'Patient.birthDate'],
    ] as const) {
      const res = await refused('POST', '/fhir/Patient', body);
      expect(res.status).toBe(422);
      expect(res.body.issue?.flatMap((i) => i.expression ?? [])).toContain(path);
    }
  });

  it('refuses a Consent with "performer": [null] before it is stored', async () => {
    const consent = consentResource('Patient/x', [], ['Organization/huisartsen-de-linde'], ['CAREMGT']);
    const res = await refused('POST', '/fhir/Consent', { ...consent, performer: [null] });
    expect(res.body.issue?.flatMap((i) => i.expression ?? [])).toContain('Consent.performer[0]');
  });

  it('refuses operation parameters and payloads with nulls: valueReference null does not pass as given', async () => {
    const payload: Bundle = { resourceType: 'Bundle', type: 'collection', entry: [] };
    const params = exchangeParameters('Organization/huisartsen-de-linde', '999910036', 'CAREMGT', payload);
    params.parameter![0] = { name: 'recipient', valueReference: null } as never;
    await refused('POST', '/fhir/$exchange', params);
    await refused('POST', '/fhir/$consent-decision', params);
    const withNullEntry = exchangeParameters('Organization/huisartsen-de-linde', '999910036', 'CAREMGT', {
      ...payload,
      entry: [null] as never,
    });
    const res = await refused('POST', '/fhir/$exchange', withNullEntry);
    expect(res.body.issue?.flatMap((i) => i.expression ?? [])).toContain(
      'Parameters.parameter[3].resource.entry[0]',
    );
  });

  it('checks a transaction Bundle as R4 before any entry is applied', async () => {
    const entry = {
      fullUrl: 'urn:uuid:5d0ac5a6-0000-4000-8000-000000000001',
      resource: patientResource(testBsn(), '2015-01-01'),
      request: { method: 'POST', url: 'Patient' },
    };
    const transaction = (entries: unknown) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: entries,
    });
    await refused('POST', '/fhir', transaction('x'));
    await refused('POST', '/fhir', transaction([null]));
    await refused('POST', '/fhir', transaction([{ ...entry, fullUrl: 42 }]));
    await refused(
      'POST',
      '/fhir',
      transaction([{ ...entry, request: { ...entry.request, ifNoneExist: ['x'] } }]),
    );
    const second = { ...entry, fullUrl: 'urn:uuid:5d0ac5a6-0000-4000-8000-000000000002' };
    await refused(
      'POST',
      '/fhir',
      transaction([entry, { ...second, resource: { ...second.resource, identifier: {} } }]),
    );
  });

  it('refuses U+0000 in stored strings, search values and ids', async () => {
    const patient = patientResource(testBsn(), '2015-01-01');
    await refused('POST', '/fhir/Patient', { ...patient, name: [{ family: 'Jan\u0000sen' }] });
    await refused('POST', '/fhir/Patient', JSON.stringify({ ...patient, gender: 'male\u0000' }));
    await refused('GET', '/fhir/Patient?identifier=%00');
    await refused('GET', '/fhir/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|9999%0010036');
    await refused('GET', '/fhir/Patient/abc%00');
    await refused('GET', '/fhir/Task?code=exchange%00');
    await refused('PUT', '/fhir/Patient/%00', { ...patient, id: '\u0000' });
  });

  it('refuses a lone UTF-16 surrogate escape in a body (400, nothing stored, no 500), and takes a proper pair', async () => {
    const patient = patientResource(testBsn(), '2015-01-01');
    const withName = (family: string) =>
      JSON.stringify({ ...patient, name: [{ family: 'X' }] }).replace('"family":"X"', `"family":"${family}"`);
    for (const lone of ['X\\ud800', 'X\\udfff', '\\ud800\\u0041', '\\udc00\\ud800']) {
      const res = await refused('POST', '/fhir/Patient', withName(lone));
      expect(res.status).toBe(400);
      expect(res.body.issue?.[0]?.diagnostics).toMatch(/surrogaat/);
    }
    const carePlan = exchangeParameters(
      'Organization/huisartsen-de-linde',
      '999910036',
      'CAREMGT',
      carePlanPayload('999910036', 'T'),
    );
    await refused(
      'POST',
      '/fhir/$exchange',
      JSON.stringify(carePlan).replace('"title":"T"', '"title":"T\\ud800"'),
    );
    const pair = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      withName('Jansen \\ud83d\\ude00'),
    );
    expect(pair.status).toBe(201);
    expect(pair.body.name?.[0]?.family).toBe('Jansen \u{1F600}');
  });

  it('answers a path that does not decode, and a $validate envelope with null parts, with a 400', async () => {
    for (const path of ['/fhir/Patient/%ff', '/fhir/ValueSet/%ff', '/fhir/Task/%E0%A4%A'])
      await refused('GET', path);
    await refused('POST', '/fhir/Condition/$validate', { resourceType: 'Parameters', parameter: [null] });
    await refused('POST', '/fhir/Condition/$validate', { resourceType: 'Parameters', parameter: 'x' });
  });

  it('refuses paging values that are not small whole numbers instead of passing them to SQL', async () => {
    for (const path of ['/fhir/Patient', '/fhir/Task', '/fhir/Communication', '/fhir/Consent'])
      for (const query of ['_offset=1e20', '_count=Infinity', '_offset=Infinity', '_offset=-1', '_count=1.5'])
        await refused('GET', `${path}?${query}`);
  });

  it('refuses JSON nested 2,000 deep (70 KB), and 5,000 deep with an Idempotency-Key, at the edge', async () => {
    const deep = `{"resourceType":"Patient","extension":[${'{"extension":['.repeat(2000)}${']}'.repeat(2000)}]}`;
    expect(deep.length).toBeGreaterThan(30_000);
    const res = await refused('POST', '/fhir/Patient', deep);
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/nested deeper than 100 levels/);
    await refused('POST', '/fhir/$exchange', nested(5000), { 'Idempotency-Key': 'deep-5000' });
    await refused('POST', '/fhir', nested(2000));
    await refused('POST', '/mappings/cjg-referral/$to-fhir', nested(2000));
    // Brackets inside strings are text, not nesting.
    const text = await fhir(sandbox.url, cjg, 'POST', '/fhir/Patient/$validate', {
      ...patientResource(testBsn(), '2015-01-01'),
      name: [{ family: '['.repeat(500) }],
    });
    expect(text.status).toBe(200);
  });

  it('answers mapping formats named after Object members with 404, and $from-fhir on null elements with 422', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
      for (const op of ['$to-fhir', '$from-fhir']) await refused('POST', `/mappings/${name}/${op}`, {});
    for (const format of ['cjg-referral', 'youthcare-registration', 'municipal-case']) {
      await refused('POST', `/mappings/${format}/$from-fhir`, {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: null }],
      });
      await refused('POST', `/mappings/${format}/$from-fhir`, {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: { resourceType: 'Patient', identifier: [null], name: [{ given: [null] }] } }],
      });
    }
  });

  it('refuses a Task update with "output": [{"type": null}] and leaves the Task as it was', async () => {
    const tasks = await fhir<Bundle<Task>>(sandbox.url, officer, 'GET', '/fhir/Task?_count=1');
    let task = tasks.body.entry?.[0]?.resource;
    if (!task) {
      const stored = await sandbox.ctx.db.transaction((tx) =>
        createResource(
          tx,
          {
            resourceType: 'Task',
            status: 'requested',
            intent: 'order',
            code: { coding: [{ code: 'legal-exception-review' }] },
          } as Task,
          'Organization/privacy-office',
        ),
      );
      task = stored;
    }
    await refused(
      'PUT',
      `/fhir/Task/${task.id}`,
      { ...task, status: 'completed', output: [{ type: null, valueCode: 'approved' }] },
      {},
      officer,
    );
  });

  it('lets a Veilig Thuis report through past a malformed stored consent and reports it, but a consent decision still fails closed', async () => {
    const child = await fhir<{ id: string }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), isoDateYearsAgo(9)),
    );
    expect(child.status).toBe(201);
    const ref = `Patient/${child.body.id}`;
    // Stored as an older release stored it, before the gateway checked FHIR well-formedness.
    await sandbox.ctx.db.transaction((tx) =>
      createResource(
        tx,
        {
          ...consentResource(ref, [], ['Organization/huisartsen-de-linde'], ['CAREMGT']),
          performer: [null],
        } as unknown as Consent,
        'Organization/cjg-venlo',
      ),
    );
    const bsn = (await fhir<Patient>(sandbox.url, cjg, 'GET', `/fhir/${ref}`)).body.identifier![0]!.value!;
    const ask = (recipient: string, extra: Parameters['parameter']) =>
      fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', {
        resourceType: 'Parameters',
        parameter: [
          { name: 'recipient', valueReference: { reference: recipient } },
          { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: bsn } },
          {
            name: 'purpose',
            valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
          },
          ...(extra ?? []),
        ],
      });
    const report = await ask(
      'Organization/veilig-thuis-noord-limburg',
      legalBasisParameters('wmo-5.2.6-veilig-thuis', 'Signalen van huiselijk geweld; meldcode stap 5.', {
        'meldcode-followed': true,
      }),
    );
    expect(report.status).toBe(200);
    expect(param(report.body, 'decision')?.valueCode).toBe('permit');
    const reasons = report.body.parameter
      ?.filter((p) => p.name === 'reason')
      .map((p) => p.part?.find((x) => x.name === 'code')?.valueCoding?.code);
    expect(reasons).toContain('consent-unevaluable');
    const byConsent = await ask('Organization/huisartsen-de-linde', []);
    expect(param(byConsent.body, 'decision')?.valueCode).toBe('deny');
  });
});
