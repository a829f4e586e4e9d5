// FHIR date search on the audit log as a table: every prefix × every precision, in Amsterdam time unless a zone is
// given, on both engines; `_sort`, `_count` and `_offset` checked; a bad value is a 400, never a 5xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { buildAuditEvent } from '../src/audit/audit-event.js';
import { appendAudits } from '../src/audit/log.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import { ENGINES, fhir, freshDatabase, sandboxToken, testSandbox } from './helpers.js';

/** Events around the edges of November 2026 in Amsterdam (UTC+1 then); the letter is the event's name. */
const EVENTS: Record<string, string> = {
  A: '2026-10-31T22:59:59Z', // 31 October 23:59:59 in Amsterdam
  B: '2026-10-31T23:00:00Z', // 1 November 00:00 in Amsterdam
  C: '2026-11-30T12:00:00Z', // 30 November 13:00
  D: '2026-11-30T22:59:59Z', // 30 November 23:59:59
  E: '2026-11-30T23:30:00Z', // 1 December 00:30 in Amsterdam, still 30 November in UTC
  F: '2027-01-01T00:00:00Z', // 1 January 2027 01:00
};

const ALL = 'ABCDEF';
/** What each value covers, and so what each prefix finds: [value, eq, ne, gt, ge, lt, le]. */
const TABLE: [string, string, string, string, string, string, string][] = [
  ['2026', 'ABCDE', 'F', 'F', ALL, '', 'ABCDE'],
  ['2026-11', 'BCD', 'AEF', 'EF', 'BCDEF', 'A', 'ABCD'],
  ['2026-11-30', 'CD', 'ABEF', 'EF', 'CDEF', 'AB', 'ABCD'],
  ['2026-11-30T13:00', 'C', 'ABDEF', 'DEF', 'CDEF', 'AB', 'ABC'],
  ['2026-11-30T13:00:00', 'C', 'ABDEF', 'DEF', 'CDEF', 'AB', 'ABC'],
  ['2026-11-30T13:00:00.000', 'C', 'ABDEF', 'DEF', 'CDEF', 'AB', 'ABC'],
  ['2026-11-30T12:00:00Z', 'C', 'ABDEF', 'DEF', 'CDEF', 'AB', 'ABC'],
  ['2026-11-30T13:00:00+01:00', 'C', 'ABDEF', 'DEF', 'CDEF', 'AB', 'ABC'],
];
const PREFIXES = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;
/** `sa` (starts after) and `eb` (ends before) over instants: as `gt` and `lt`. */
const ALIASES = { sa: 'gt', eb: 'lt' } as const;

describe.each(ENGINES)('audit date search table on %s', (engine) => {
  let sandbox: RunningSandbox;
  let db: Database;
  let drop: () => Promise<void>;
  let officer: string;
  const get = (query: string) =>
    fhir<Bundle<AuditEvent>>(sandbox.url, officer, 'GET', `/fhir/AuditEvent?${query}`);
  const found = async (query: string) => {
    const res = await get(`purpose=date-table&${query}&_sort=date&_count=100`);
    expect(res.status, query).toBe(200);
    return (res.body.entry ?? []).map((e) => e.resource!.outcomeDesc).join('');
  };

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    sandbox = await testSandbox({}, db);
    officer = await sandboxToken(sandbox, 'privacy-officer');
    await db.transaction((tx) =>
      appendAudits(
        tx,
        Object.entries(EVENTS).map(([name, at]) =>
          buildAuditEvent({
            subtype: 'read',
            outcome: 'success',
            description: name,
            requester: { org: 'Organization/cjg-venlo', clientId: 'sandbox-cjg' },
            purpose: { system: 'urn:test', code: 'date-table' },
            recorded: new Date(at),
          }),
        ),
      ),
    );
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  for (const [value, ...expected] of TABLE) {
    it(`finds for ${value} with each prefix exactly the events that range covers`, async () => {
      for (const [i, prefix] of PREFIXES.entries()) {
        const q = `date=${encodeURIComponent(`${prefix}${value}`)}`;
        expect([prefix, await found(q)]).toEqual([prefix, expected[i]]);
      }
      for (const [alias, same] of Object.entries(ALIASES)) {
        const q = `date=${encodeURIComponent(`${alias}${value}`)}`;
        expect([alias, await found(q)]).toEqual([alias, expected[PREFIXES.indexOf(same)]]);
      }
      // No prefix is eq.
      expect(await found(`date=${encodeURIComponent(value)}`)).toBe(expected[0]);
    });
  }

  it('reads the day of a change to summer time as its 23 hours in Amsterdam', async () => {
    await db.transaction((tx) =>
      appendAudits(
        tx,
        [
          ['in', '2026-03-29T21:59:59Z'],
          ['out', '2026-03-29T22:00:00Z'],
        ].map(([name, at]) =>
          buildAuditEvent({
            subtype: 'read',
            outcome: 'success',
            description: name!,
            requester: { org: 'Organization/cjg-venlo', clientId: 'sandbox-cjg' },
            purpose: { system: 'urn:test', code: 'dst' },
            recorded: new Date(at!),
          }),
        ),
      ),
    );
    const res = await get('purpose=dst&date=2026-03-29');
    expect(res.body.entry?.map((e) => e.resource!.outcomeDesc)).toEqual(['in']);
  });

  it('answers the issue’s examples: gt2026-11 and le2026-11-30 search, they do not fail', async () => {
    expect(await found('date=gt2026-11')).toBe('EF');
    expect(await found('date=le2026-11-30')).toBe('ABCD');
  });

  it('sorts by date both ways and refuses any other sort', async () => {
    const asc = await get('purpose=date-table&_sort=date');
    const desc = await get('purpose=date-table&_sort=-date');
    const names = (b: Bundle<AuditEvent>) => (b.entry ?? []).map((e) => e.resource!.outcomeDesc).join('');
    expect(names(asc.body)).toBe('ABCDEF');
    expect(names(desc.body)).toBe('FEDCBA');
    expect(names((await get('purpose=date-table')).body)).toBe('FEDCBA');
    for (const bad of ['recorded', 'date,-date', '_lastUpdated', ''])
      expect([bad, (await get(`purpose=date-table&_sort=${encodeURIComponent(bad)}`)).status]).toEqual([
        bad,
        400,
      ]);
  });

  it('pages with _count from 0 (the total alone) and caps it at 500; a count or offset that is not a whole number is a 400', async () => {
    const one = await get('purpose=date-table&_count=1&_offset=2&_sort=date');
    expect(one.body.total).toBe(6);
    expect(one.body.entry?.map((e) => e.resource!.outcomeDesc)).toEqual(['C']);
    const many = await get('purpose=date-table&_count=100000');
    expect(many.status).toBe(200);
    expect(many.body.link?.find((l) => l.relation === 'self')?.url).toContain('_count=500');
    const counted = await get('purpose=date-table&_count=0');
    expect([counted.status, counted.body.total, counted.body.entry]).toEqual([200, 6, undefined]);
    for (const bad of [
      '_count=-1',
      '_count=abc',
      '_count=1.5',
      '_offset=-1',
      '_offset=1e30',
      '_count=1&_count=2',
    ])
      expect([bad, (await get(`purpose=date-table&${bad}`)).status]).toEqual([bad, 400]);
  });

  it('refuses a date value that is not one with a 400 naming an example, never a 5xx', async () => {
    for (const bad of [
      '2026-13',
      '2026-02-30',
      'xx2026',
      '2026-11-30T25:00',
      '2026-11-30T10:00+15:00',
      '20261130',
      'ge',
      '0000',
    ]) {
      const res = await get(`date=${encodeURIComponent(bad)}`);
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(JSON.stringify(res.body)).toMatch(/ge2026-01-01/);
    }
  });
});
