// The audit log for privacy officers: search and read (chain verification and export are in operations/); every read
// of the log is itself audited.
import type { Router } from 'express';
import { AUDIT_SEARCH, readAuditEvent, searchAuditEvents } from '../../audit/search.js';
import { audit } from '../../audit/record.js';
import { unknownResource } from '../../fhir/outcomes.js';
import type { HttpContext } from '../context.js';
import { routesOn } from '../define-operation.js';
import { baseUrlOf, principalOf, sendFhir } from '../http.js';
import { searchBundle } from '../search-bundle.js';

export function auditRoutes(ctx: HttpContext, router: Router): void {
  const route = routesOn(ctx, router, '/fhir', 'Audit and oversight');
  for (const [name, type] of Object.entries(AUDIT_SEARCH)) ctx.caps.searchParam('AuditEvent', name, type);

  const read = {
    interaction: ['AuditEvent', 'read'],
    summary: 'Read one audit event (privacy officers)',
    permission: 'audit:read',
  } as const;
  route({ method: 'get', path: '/AuditEvent/:id', ...read }, async (req, res) => {
    const principal = principalOf(res);
    const event = await readAuditEvent(ctx.db, String(req.params.id));
    if (!event) throw unknownResource(`AuditEvent/${req.params.id}`);
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        subtype: 'audit-read',
        outcome: 'success',
        description: `Audit event ${req.params.id} read`,
        entities: [{ reference: `AuditEvent/${req.params.id}` }],
      }),
    );
    sendFhir(res, 200, event);
  });

  const search = {
    interaction: ['AuditEvent', 'search-type'],
    summary: 'Search the audit log (privacy officers)',
    permission: 'audit:read',
  } as const;
  route({ method: 'get', path: '/AuditEvent', ...search }, async (req, res) => {
    const principal = principalOf(res);
    const { count, offset, total, events } = await searchAuditEvents(ctx.db, req.query);
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        subtype: 'audit-read',
        outcome: 'success',
        description: `Audit log searched: ${events.length} of ${total} events`,
        details: { query: new URLSearchParams(req.query as Record<string, string>).toString() },
      }),
    );
    const result = { total, resources: events };
    sendFhir(
      res,
      200,
      searchBundle(baseUrlOf(ctx, req), '/fhir/AuditEvent', req.query, result, count, offset),
    );
  });
}
