// Oversight: only privacy officers read the log; export; the review queue; client notifications; access reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome, Parameters, Task } from '@medplum/fhirtypes';
import { ROLES } from '../src/auth/access.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  carePlanPayload,
  EMMA,
  exchangeParameters,
  fhir,
  legalBasisParameters,
  MOTHER,
  NOAH,
  param,
  personToken,
  sandboxToken,
  testSandbox,
} from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

const payload = carePlanPayload(NOAH);

describe('oversight', () => {
  let sandbox: RunningSandbox;
  let officer: string;
  let cjg: string;
  let review: string;
  let notify: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    officer = await sandboxToken(sandbox, 'privacy-officer');
    cjg = await sandboxToken(sandbox, 'cjg');
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/huisartsen-de-linde', NOAH, 'CAREMGT', payload),
    );
    const ots = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(
        'Organization/gi-jeugdbescherming-zuid',
        NOAH,
        'CAREMGT',
        payload,
        legalBasisParameters(
          'jw-7.3.11-gi-ots',
          'Ondertoezichtstelling sinds maart; GI vraagt het plan op.',
          { 'court-order': true },
        ),
      ),
    );
    review = param(ots.body, 'review')!.valueReference!.reference!;
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(
        'Organization/veilig-thuis-noord-limburg',
        NOAH,
        'CAREMGT',
        payload,
        legalBasisParameters(
          'wmo-5.2.6-veilig-thuis',
          'Signalen van huiselijk geweld; meldcode doorlopen tot stap 5.',
          { 'meldcode-followed': true },
        ),
      ),
    );
    const tasks = await fhir<Bundle<Task>>(
      sandbox.url,
      cjg,
      'GET',
      '/fhir/Task?code=notify-client&status=requested',
    );
    notify = `Task/${tasks.body.entry![0]!.resource!.id}`;
  });
  afterAll(() => sandbox.close());

  it('refuses every audit endpoint to every role but the privacy officer', async () => {
    const [anyEvent] = await sandbox.ctx.db.query<{ id: string }>('SELECT id FROM audit_events LIMIT 1');
    const paths = [
      '/fhir/AuditEvent',
      `/fhir/AuditEvent/${anyEvent!.id}`,
      '/fhir/AuditEvent/$verify',
      '/fhir/AuditEvent/$export?_format=csv',
    ];
    for (const role of ROLES.filter((r) => r !== 'privacy-officer')) {
      const token =
        role === 'person' ? await personToken(sandbox, MOTHER) : await sandboxToken(sandbox, role);
      for (const path of paths)
        expect([role, path, (await fhir(sandbox.url, token, 'GET', path)).status]).toEqual([role, path, 403]);
    }
    for (const path of paths)
      expect(
        (await fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${officer}` } })).status,
      ).toBe(200);
  });

  it('exports the filtered log as NDJSON and CSV', async () => {
    const ndjson = await (
      await fetch(
        `${sandbox.url}/fhir/AuditEvent/$export?_format=ndjson&patient:identifier=${BSN}|${NOAH}&subtype=exchange`,
        { headers: { authorization: `Bearer ${officer}` } },
      )
    ).text();
    const events = ndjson
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(events.length).toBe(3);
    expect(events.every((e) => e.resourceType === 'AuditEvent' && e.subtype?.[0]?.code === 'exchange')).toBe(
      true,
    );
    const csv = await (
      await fetch(`${sandbox.url}/fhir/AuditEvent/$export?_format=csv&outcome=0`, {
        headers: { authorization: `Bearer ${officer}` },
      })
    ).text();
    const [header, ...rows] = csv.trim().split('\n');
    expect(header).toBe(
      'seq,recorded,subtype,action,outcome,patient_bsn,agent,recipient,purpose,legal_basis,description',
    );
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.every((r) => r.split(',')[4] === 'success')).toBe(true);
  });

  it('lets the privacy officer work the review queue: approve with a note; others may not; overdue ones are listed', async () => {
    const queue = await fhir<Bundle<Task>>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/Task?code=legal-exception-review&status=requested',
    );
    const task = queue.body.entry!.map((e) => e.resource!).find((t) => `Task/${t.id}` === review)!;
    expect(task.input?.find((i) => i.type.text === 'justification')?.valueString).toMatch(
      /Ondertoezichtstelling/,
    );
    const done = (output: Task['output']) => ({ ...task, status: 'completed', output });
    expect(
      (
        await fhir(
          sandbox.url,
          cjg,
          'PUT',
          `/fhir/${review}`,
          done([{ type: { text: 'decision' }, valueCode: 'approved' }]),
        )
      ).status,
    ).toBe(403);
    const noNote = await fhir<OperationOutcome>(
      sandbox.url,
      officer,
      'PUT',
      `/fhir/${review}`,
      done([{ type: { text: 'decision' }, valueCode: 'approved' }]),
    );
    expect(noNote.status).toBe(422);
    const ok = await fhir<Task>(
      sandbox.url,
      officer,
      'PUT',
      `/fhir/${review}`,
      done([
        { type: { text: 'decision' }, valueCode: 'approved' },
        { type: { text: 'note' }, valueString: 'OTS-beschikking gezien; proportioneel.' },
      ]),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('completed');
    // The review of the Veilig Thuis report is made overdue; the queue of overdue reviews shows it and only it.
    const open = (
      await fhir<Bundle<Task>>(
        sandbox.url,
        officer,
        'GET',
        '/fhir/Task?code=legal-exception-review&status=requested',
      )
    ).body.entry!.map((e) => e.resource!);
    expect(open).toHaveLength(1);
    expect(
      (
        await fhir<Bundle>(
          sandbox.url,
          officer,
          'GET',
          '/fhir/Task?code=legal-exception-review&status=requested&overdue=true',
        )
      ).body.total,
    ).toBe(0);
    await sandbox.ctx.db.query(
      `UPDATE resources SET content = jsonb_set(content, '{restriction,period,end}', '"2026-01-01T00:00:00Z"') WHERE type = 'Task' AND id = $1`,
      [open[0]!.id],
    );
    const overdue = await fhir<Bundle<Task>>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/Task?code=legal-exception-review&status=requested&overdue=true',
    );
    expect(overdue.body.entry?.map((e) => e.resource!.id)).toEqual([open[0]!.id]);
  });

  it('tracks a client notification until it is done or deliberately deferred with a reason', async () => {
    const task = (await fhir<Task>(sandbox.url, cjg, 'GET', `/fhir/${notify}`)).body;
    expect(task.code?.coding?.[0]?.code).toBe('notify-client');
    expect(
      (await fhir(sandbox.url, cjg, 'PUT', `/fhir/${notify}`, { ...task, status: 'on-hold' })).status,
    ).toBe(422);
    const deferred = await fhir<Task>(sandbox.url, cjg, 'PUT', `/fhir/${notify}`, {
      ...task,
      status: 'on-hold',
      statusReason: { text: 'Informeren brengt het kind nu in gevaar (Veilig Thuis onderzoekt).' },
    });
    expect(deferred.status).toBe(200);
    expect(deferred.body.statusReason?.text).toMatch(/gevaar/);
  });

  it('gives the access report as FHIR and as a Dutch page to the privacy officer', async () => {
    const bundle = await fhir<Bundle<AuditEvent>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/Patient/$access-report?identifier=${BSN}|${NOAH}`,
    );
    expect(bundle.status).toBe(200);
    expect(bundle.body.entry!.length).toBeGreaterThanOrEqual(3);
    const html = await (
      await fetch(`${sandbox.url}/fhir/Patient/$access-report?identifier=${BSN}|${NOAH}`, {
        headers: { authorization: `Bearer ${officer}`, accept: 'text/html' },
      })
    ).text();
    expect(html).toContain('<html lang="nl">');
    expect(html).toContain('Huisartsenpraktijk De Linde');
    expect(html).toContain('wettelijke grondslag: Jeugdwet art. 7.3.11 lid 4');
    expect(html).toContain('toestemming');
  });

  it('gives a person their own report from 12, and a parent with gezag their child’s under 16', async () => {
    const get = async (token: string, bsn: string) =>
      (await fhir(sandbox.url, token, 'GET', `/fhir/Patient/$access-report?identifier=${BSN}|${bsn}`)).status;
    expect(await get(await personToken(sandbox, NOAH), NOAH)).toBe(403); // 9 years old
    expect(await get(await personToken(sandbox, MOTHER), NOAH)).toBe(200);
    expect(await get(await personToken(sandbox, EMMA), EMMA)).toBe(200); // 14
    expect(await get(await personToken(sandbox, EMMA), NOAH)).toBe(403);
    expect(await get(await personToken(sandbox, '999910140'), NOAH)).toBe(403);
  });
});
