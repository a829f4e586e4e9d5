// The audit log for privacy officers: search and read (chain verification and export are in operations/); every read
// of the log is itself audited.
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Router } from 'express';
import { AUDIT_SEARCH, auditPaging, auditWhere as whereOf } from '../../audit/search.js';
import { DateSearchError } from '../../store/date-search.js';
import type { HttpContext } from '../context.js';
import { routesOn } from '../define-operation.js';
import { baseUrlOf, demand, principalOf, sendFhir } from '../http.js';
import { audit } from '../../audit/record.js';
import { badRequest, notFound } from '../../fhir/outcomes.js';
import { searchBundle } from '../../person-index/records.js';

/** The search as SQL; a value the log cannot be searched by is a 400 before anything is read. */
export function auditWhere(query: Record<string, unknown>): { where: string; params: unknown[] } {
  return refusedAsBadRequest(() => whereOf(query));
}

/** An AuditSearchError as a 400 OperationOutcome. */
function refusedAsBadRequest<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof DateSearchError) throw badRequest(err.message);
    throw err;
  }
}

export function auditRoutes(ctx: HttpContext, router: Router): void {
  const route = routesOn(ctx, router, '/fhir', 'Audit and oversight');
  for (const [name, type] of Object.entries(AUDIT_SEARCH)) ctx.caps.searchParam('AuditEvent', name, type);

  const read = {
    interaction: ['AuditEvent', 'read'],
    summary: 'Read one audit event (privacy officers)',
  } as const;
  route({ method: 'get', path: '/AuditEvent/:id', ...read }, async (req, res) => {
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

  const search = {
    interaction: ['AuditEvent', 'search-type'],
    summary: 'Search the audit log (privacy officers)',
  } as const;
  route({ method: 'get', path: '/AuditEvent', ...search }, async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    const { count, offset, order } = refusedAsBadRequest(() => auditPaging(req.query));
    const { where, params } = auditWhere(req.query);
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
