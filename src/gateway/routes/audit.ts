// The audit log for privacy officers: search, read and chain verification; every read of the log is itself audited.
import type { AuditEvent, Parameters } from '@medplum/fhirtypes';
import type { Router } from 'express';
import { verifyChain } from '../../audit/chain.js';
import { verifyCheckpoint } from '../../audit/checkpoint-jws.js';
import type { GatewayContext } from '../context.js';
import { audit, baseUrlOf, demand, paging, principalOf, sendFhir } from '../http.js';
import { badRequest, notFound } from '../outcomes.js';
import { searchBundle } from '../person-index.js';

const DATE_PREFIX = /^(ge|le|gt|lt|eq)?(\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$/;
const OPS: Record<string, string> = { ge: '>=', le: '<=', gt: '>', lt: '<', eq: '=' };
export const AUDIT_SEARCH: Record<string, string> = {
  'patient:identifier': 'token',
  date: 'date',
  agent: 'reference',
  outcome: 'token',
  purpose: 'token',
  'legal-basis': 'token',
  subtype: 'token',
};

/** Translates the search parameters into SQL over the audit index columns. */
function auditWhere(query: Record<string, unknown>): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  for (const [name, raw] of Object.entries(query)) {
    if (name.startsWith('_')) continue;
    if (!(name in AUDIT_SEARCH))
      throw badRequest(
        `Unknown search parameter "${name}"; supported: ${Object.keys(AUDIT_SEARCH).join(', ')}`,
      );
    for (const value of (Array.isArray(raw) ? raw : [raw]).map(String)) {
      const token = value.includes('|') ? value.split('|')[1]! : value;
      switch (name) {
        case 'patient:identifier':
          add('patient = ?', token);
          break;
        case 'date': {
          const m = DATE_PREFIX.exec(value);
          if (!m) throw badRequest(`date "${value}" is not a FHIR date search value (e.g. ge2026-01-01)`);
          if ((m[1] ?? 'eq') === 'eq')
            add(`to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') LIKE ? || '%'`, m[2]);
          else add(`recorded ${OPS[m[1]!]} ?::timestamptz`, m[2]);
          break;
        }
        case 'agent':
          add('(agent_org = ? OR recipient_org = $' + (params.length + 1) + ')', value);
          params.push(value);
          break;
        case 'outcome':
          add('outcome = ?', { '0': 'success', '4': 'denied', '8': 'error' }[token] ?? token);
          break;
        case 'purpose':
          add('purpose = ?', token);
          break;
        case 'legal-basis':
          add('legal_basis = ?', token);
          break;
        case 'subtype':
          add('subtype = ?', token);
          break;
      }
    }
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export function auditRoutes(ctx: GatewayContext, router: Router): void {
  const tag = 'Audit and oversight';
  ctx.caps.interaction('AuditEvent', 'search-type', {
    method: 'get',
    path: '/fhir/AuditEvent',
    summary: 'Search the audit log (privacy officers)',
    tag,
  });
  ctx.caps.interaction('AuditEvent', 'read', {
    method: 'get',
    path: '/fhir/AuditEvent/:id',
    summary: 'Read one audit event (privacy officers)',
    tag,
  });
  ctx.caps.typeOperation('AuditEvent', 'verify', {
    method: 'get',
    path: '/fhir/AuditEvent/$verify',
    summary: 'Verify the hash chain of the audit log',
    tag,
  });
  for (const [name, type] of Object.entries(AUDIT_SEARCH)) ctx.caps.searchParam('AuditEvent', name, type);

  router.get('/AuditEvent/\\$verify', async (_req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    const result = await verifyChain(ctx.db, {
      verifyCheckpoint: (jws) => verifyCheckpoint(jws, ctx.key.publicKey),
    });
    // A broken log may refuse new appends (a forged row in the way); the verdict is reported all the same.
    const recorded = await ctx.db
      .transaction((tx) =>
        audit(tx, principal, {
          subtype: 'audit-read',
          outcome: 'success',
          description: `Audit chain verified: ${result.valid ? 'valid' : 'BROKEN'} over ${result.count} events`,
        }),
      )
      .then(() => true)
      .catch((err: unknown) => {
        if (result.valid) throw err;
        ctx.logger.error({ err }, 'the audit log is broken and this verification could not be recorded');
        return false;
      });
    const parameter: NonNullable<Parameters['parameter']> = [
      { name: 'valid', valueBoolean: result.valid },
      { name: 'recorded', valueBoolean: recorded },
      { name: 'count', valueInteger: result.count },
      { name: 'checkpoints', valueInteger: result.checkpoints },
      { name: 'from', valueInteger: result.from },
      { name: 'chains', valueInteger: result.chains },
    ];
    if (result.firstInvalid) {
      parameter.push({
        name: 'firstInvalid',
        part: [
          { name: 'chain', valueInteger: result.firstInvalid.chain },
          { name: 'sequence', valueInteger: result.firstInvalid.seq },
          { name: 'id', valueString: result.firstInvalid.id },
          { name: 'problem', valueString: result.firstInvalid.problem },
        ],
      });
    }
    sendFhir(res, 200, { resourceType: 'Parameters', parameter });
  });

  ctx.caps.typeOperation('AuditEvent', 'export', {
    method: 'get',
    path: '/fhir/AuditEvent/$export',
    summary: 'Export the (filtered) log as NDJSON or CSV, streamed',
    tag,
  });
  router.get('/AuditEvent/\\$export', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    const { _format: format = 'ndjson', ...filters } = req.query;
    if (format !== 'ndjson' && format !== 'csv') throw badRequest('_format must be ndjson or csv');
    const { where, params } = auditWhere(filters);
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        subtype: 'audit-read',
        outcome: 'success',
        description: `Audit log exported as ${format}`,
        details: { query: new URLSearchParams(req.query as Record<string, string>).toString() },
      }),
    );
    res.status(200).type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/fhir+ndjson');
    res.set('Content-Disposition', `attachment; filename="auditevents.${format}"`);
    if (format === 'csv') res.write(`${CSV_COLUMNS.join(',')}\n`);
    // Streamed in pages by sequence number: memory stays flat however large the log is.
    let after = 0;
    for (;;) {
      const rows = await ctx.db.query<AuditRow>(
        `SELECT seq::int AS seq, recorded, subtype, action, outcome, patient, agent_org, recipient_org, purpose, legal_basis, content
         FROM audit_events ${where ? `${where} AND` : 'WHERE'} seq > $${params.length + 1} ORDER BY seq LIMIT 1000`,
        [...params, after],
      );
      if (rows.length === 0) break;
      const chunk =
        rows.map((r) => (format === 'csv' ? csvLine(r) : JSON.stringify(r.content))).join('\n') + '\n';
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      after = rows[rows.length - 1]!.seq;
    }
    res.end();
  });

  router.get('/AuditEvent/:id', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    const rows = await ctx.db.query<{ content: AuditEvent }>(
      'SELECT content FROM audit_events WHERE id = $1',
      [req.params.id],
    );
    if (!rows[0]) throw notFound(`AuditEvent/${req.params.id} is not known`);
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        subtype: 'audit-read',
        outcome: 'success',
        description: `Audit event ${req.params.id} read`,
        entities: [{ reference: `AuditEvent/${req.params.id}` }],
      }),
    );
    sendFhir(res, 200, rows[0].content);
  });

  router.get('/AuditEvent', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    const { count, offset } = paging(req.query);
    const { where, params } = auditWhere(req.query);
    const order = req.query._sort === 'date' ? 'ASC' : 'DESC';
    const [totalRow] = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events ${where}`,
      params,
    );
    const rows = await ctx.db.query<{ content: AuditEvent }>(
      `SELECT content FROM audit_events ${where} ORDER BY seq ${order} LIMIT ${count} OFFSET ${offset}`,
      params,
    );
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        subtype: 'audit-read',
        outcome: 'success',
        description: `Audit log searched: ${rows.length} of ${totalRow?.n ?? 0} events`,
        details: { query: new URLSearchParams(req.query as Record<string, string>).toString() },
      }),
    );
    const result = { total: totalRow?.n ?? 0, resources: rows.map((r) => r.content) };
    sendFhir(
      res,
      200,
      searchBundle(baseUrlOf(ctx, req), '/fhir/AuditEvent', req.query, result, count, offset),
    );
  });
}

interface AuditRow {
  seq: number;
  recorded: Date;
  subtype: string;
  action: string;
  outcome: string;
  patient: string | null;
  agent_org: string | null;
  recipient_org: string | null;
  purpose: string | null;
  legal_basis: string | null;
  content: AuditEvent;
}

const CSV_COLUMNS = [
  'seq',
  'recorded',
  'subtype',
  'action',
  'outcome',
  'patient_bsn',
  'agent',
  'recipient',
  'purpose',
  'legal_basis',
  'description',
];

function csvField(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(r: AuditRow): string {
  return [
    r.seq,
    r.recorded,
    r.subtype,
    r.action,
    r.outcome,
    r.patient,
    r.agent_org,
    r.recipient_org,
    r.purpose,
    r.legal_basis,
    r.content.outcomeDesc,
  ]
    .map(csvField)
    .join(',');
}
