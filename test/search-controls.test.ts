// The search controls every search shares (`_lastUpdated` with the audit log's date semantics, `_count`, `_offset`,
// `_sort`), and what an investigation searches the log by: sender, recipient, one exchange's Task; the CSV export in
// Amsterdam time and the chain verification streamed. Both engines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import {
  carePlanPayload,
  ENGINES,
  exchangeParameters,
  fhir,
  freshDatabase,
  sandboxToken,
  testSandbox,
  waitFor,
} from './helpers.js';

const NOAH = '999910036';
const today = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Amsterdam' }).format(new Date());

describe.each(ENGINES)('search controls and the investigation searches on %s', (engine) => {
  let sandbox: RunningSandbox;
  let db: Database;
  let drop: () => Promise<void>;
  let officer: string;
  let cjg: string;
  let taskId: string;
  const get = <T = Bundle>(token: string, path: string) => fhir<T>(sandbox.url, token, 'GET', path);
  const subtypes = (b: Bundle) => (b.entry ?? []).map((e) => (e.resource as AuditEvent).subtype?.[0]?.code);

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    sandbox = await testSandbox({}, db);
    officer = await sandboxToken(sandbox, 'privacy-officer');
    cjg = await sandboxToken(sandbox, 'cjg');
    const sent = await fhir<{ parameter: { name: string; valueReference?: { reference: string } }[] }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/huisartsen-de-linde', NOAH, 'CAREMGT', carePlanPayload(NOAH)),
    );
    expect(sent.status).toBe(202);
    taskId = sent.body.parameter.find((p) => p.name === 'exchange')!.valueReference!.reference.slice(5);
    await waitFor(async () => {
      const t = await get<{ status: string }>(cjg, `/fhir/Task/${taskId}`);
      return t.body.status === 'completed' ? true : undefined;
    });
  });
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('finds Tasks by _lastUpdated as a range in Amsterdam time, with every prefix', async () => {
    const ids = async (q: string) => {
      const res = await get(cjg, `/fhir/Task?_lastUpdated=${encodeURIComponent(q)}`);
      expect(res.status, q).toBe(200);
      return (res.body.entry ?? []).map((e) => e.resource!.id);
    };
    expect(await ids(today)).toContain(taskId);
    expect(await ids(`ge${today}`)).toContain(taskId);
    expect(await ids(`le${today}`)).toContain(taskId);
    expect(await ids(`lt${today}`)).not.toContain(taskId);
    expect(await ids(`gt${today}`)).not.toContain(taskId);
    expect(await ids('2001,' + today.slice(0, 7))).toContain(taskId);
  });

  it('finds registrations in the person index by _lastUpdated and sorts them by it', async () => {
    const recent = await get(officer, `/fhir/Patient?_lastUpdated=ge${today.slice(0, 4)}&_sort=_lastUpdated`);
    expect(recent.status).toBe(200);
    expect(recent.body.total).toBeGreaterThan(0);
    const old = await get(officer, '/fhir/Patient?_lastUpdated=lt2001-01-01T00:00:00Z');
    expect(old.body.total).toBe(0);
  });

  it.each([
    ['/fhir/Task?_lastUpdated=gt2026-13', '_lastUpdated'],
    ['/fhir/Task?_lastUpdated=', '_lastUpdated'],
    ['/fhir/Patient?_lastUpdated=2026-02-30', '_lastUpdated'],
    ['/fhir/Task?_count=abc', '_count'],
    ['/fhir/Task?_count=-1', '_count'],
    ['/fhir/Task?_offset=1e99', '_offset'],
    ['/fhir/Patient?_offset=99999999999999999999', '_offset'],
    ['/fhir/Organization?_count=1&_count=2', '_count'],
    ['/fhir/Task?_sort=status', '_sort'],
    ['/fhir/AuditEvent?sender=not%20a%20reference', 'sender'],
    ['/fhir/AuditEvent?entity=%3Cscript%3E', 'entity'],
  ])('answers %s with a 400 that names %s, never a 5xx', async (path, name) => {
    const res = await get<OperationOutcome>(officer, path);
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toContain(name);
  });

  it('serves a _count above 500 as 500', async () => {
    const many = await get(officer, '/fhir/Organization?_count=100000');
    expect(many.status).toBe(200);
    expect(many.body.link?.find((l) => l.relation === 'self')?.url).toContain('_count=500');
  });

  it('answers _count=0 on every paged search with the total alone: no entries, no next or previous link', async () => {
    const exchange = `subtype=exchange&patient:identifier=${NOAH}`;
    const searches: [token: string, path: string][] = [
      [officer, `/fhir/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|${NOAH}`],
      [officer, '/fhir/Organization'],
      [cjg, '/fhir/Task?code=exchange'],
      [cjg, '/fhir/Communication'],
      [officer, `/fhir/AuditEvent?${exchange}`],
      [officer, '/fhir/CodeSystem'],
      [officer, '/fhir/StructureDefinition'],
      [officer, '/fhir/OperationDefinition'],
    ];
    for (const [token, path] of searches) {
      const join = path.includes('?') ? '&' : '?';
      const full = await get(token, `${path}${join}_count=500`);
      // Something to count, so that an empty answer could not pass for a count (notices may be none).
      if (!path.startsWith('/fhir/Communication')) expect([path, full.body.total! > 0]).toEqual([path, true]);
      for (const paging of ['_count=0', '_count=0&_offset=3']) {
        const counted = await get(token, `${path}${join}${paging}`);
        expect([path, paging, counted.status]).toEqual([path, paging, 200]);
        expect(counted.body.type).toBe('searchset');
        expect([path, counted.body.total]).toEqual([path, full.body.total]);
        expect([path, counted.body.entry]).toEqual([path, undefined]);
        expect(counted.body.link?.map((l) => l.relation)).toEqual(['self']);
        expect(counted.body.link?.[0]?.url).toContain('_count=0');
      }
    }
  });

  it('takes _summary=count as _count=0 on the person index, the directory, Tasks, notices and the log; other _summary values are a 400', async () => {
    const searches: [token: string, path: string][] = [
      [officer, `/fhir/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|${NOAH}`],
      [officer, '/fhir/Organization'],
      [cjg, '/fhir/Task?code=exchange'],
      [cjg, '/fhir/Communication'],
      [officer, `/fhir/AuditEvent?subtype=exchange&patient:identifier=${NOAH}`],
    ];
    for (const [token, path] of searches) {
      const join = path.includes('?') ? '&' : '?';
      const full = await get(token, `${path}${join}_count=500`);
      const counted = await get(token, `${path}${join}_summary=count`);
      expect([path, counted.status, counted.body.total, counted.body.entry]).toEqual([
        path,
        200,
        full.body.total,
        undefined,
      ]);
      expect((await get(token, `${path}${join}_summary=true`)).status).toBe(400);
    }
  });

  it('records a count-only search of the person index, the Tasks and the log as a search that returned 0', async () => {
    const latest = async (like: string) => {
      const [row] = await db.query<{ content: AuditEvent }>(
        `SELECT content FROM audit_events WHERE content->>'outcomeDesc' LIKE $1 ORDER BY seq DESC LIMIT 1`,
        [like],
      );
      return row?.content;
    };
    const patients = await get(
      officer,
      `/fhir/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|${NOAH}&_count=0`,
    );
    const patientSearch = await latest(`Search Patient returned 0 of ${patients.body.total}`);
    expect(patientSearch?.subtype?.[0]?.code).toBe('search');
    expect(JSON.stringify(patientSearch?.entity)).toContain(NOAH);
    expect(patientSearch?.entity?.some((e) => e.what?.reference?.startsWith('Patient/'))).toBe(false);
    const tasks = await get(cjg, '/fhir/Task?code=exchange&_count=0');
    expect((await latest(`Search Task returned 0 of ${tasks.body.total}`))?.subtype?.[0]?.code).toBe(
      'search',
    );
    const log = await get(officer, `/fhir/AuditEvent?subtype=exchange&_count=0`);
    expect(await latest(`Audit log searched: 0 of ${log.body.total} events`)).toBeDefined();
  });

  it('searches the log by sender and by recipient apart', async () => {
    const q = `patient:identifier=${NOAH}&subtype=exchange`;
    const bySender = await get(officer, `/fhir/AuditEvent?${q}&sender=Organization/cjg-venlo`);
    expect(bySender.body.total).toBe(1);
    const asRecipient = await get(officer, `/fhir/AuditEvent?${q}&recipient=Organization/cjg-venlo`);
    expect(asRecipient.body.total).toBe(0);
    const byRecipient = await get(officer, `/fhir/AuditEvent?${q}&recipient=huisartsen-de-linde`);
    expect(byRecipient.body.total).toBe(1);
  });

  it('follows one exchange by its Task: the request and its delivery', async () => {
    const trail = await get(officer, `/fhir/AuditEvent?entity=Task/${taskId}&_sort=date`);
    expect(trail.status, JSON.stringify(trail.body)).toBe(200);
    expect(subtypes(trail.body)).toEqual(expect.arrayContaining(['exchange', 'delivery']));
    expect(subtypes(trail.body)[0]).toBe('exchange');
  });

  it('exports CSV times in Amsterdam time with their offset', async () => {
    const res = await fetch(`${sandbox.url}/fhir/AuditEvent/$export?_format=csv&subtype=exchange`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    const [, first] = (await res.text()).trim().split('\n');
    const recorded = first!.split(',')[1]!;
    expect(recorded).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0[12]:00$/);
    expect(recorded.slice(0, 10)).toBe(today);
  });

  it('streams the chain verification: progress lines, then the verdict as Parameters', async () => {
    const res = await fetch(`${sandbox.url}/fhir/AuditEvent/$verify`, {
      headers: { authorization: `Bearer ${officer}`, accept: 'application/x-ndjson' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const verdict = lines.pop() as {
      resourceType: string;
      parameter: { name: string; valueBoolean?: boolean }[];
    };
    expect(verdict.resourceType).toBe('Parameters');
    expect(verdict.parameter.find((p) => p.name === 'valid')?.valueBoolean).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toEqual({ checked: expect.any(Number), total: expect.any(Number) });
    expect(lines.at(-1)!.checked).toBe(lines.at(-1)!.total);
  });
});
