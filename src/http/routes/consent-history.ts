// GET /fhir/Consent/{id}/_history: every version of a consent, newest first, for the organisation that registered it
// and for privacy officers (anyone else: 404, as for a read). The console shows two versions side by side.
import type { Bundle, BundleEntry, Consent } from '@medplum/fhirtypes';
import type { Router } from 'express';
import type { HttpContext } from '../context.js';
import { baseUrlOf, principalOf, sendFhir } from '../http.js';
import { auditRead } from '../../audit/record.js';
import { readHistory } from '../../person-index/history.js';

export function consentHistoryRoutes(ctx: HttpContext, router: Router): void {
  ctx.caps.interaction('Consent', 'history-instance', {
    method: 'get',
    path: '/fhir/Consent/:id/_history',
    summary:
      'The versions of a Consent, newest first (the registering organisation and privacy officers; a history Bundle)',
    tag: 'Person index and directory',
  });
  router.get('/Consent/:id/_history', async (req, res) => {
    const principal = principalOf(res);
    const id = req.params.id;
    // The same rule and audit record as a read: unknown or not one's own → 404.
    const versions = await readHistory<Consent>(ctx.db, principal, 'Consent', id, (input) =>
      auditRead(ctx, principal, { ...input, description: `Consent/${id} history read` }),
    );
    const base = baseUrlOf(ctx, req);
    const entry: BundleEntry[] = versions.map((r) => {
      const version = r.versionId;
      const first = version === '1';
      return {
        fullUrl: `${base}/fhir/Consent/${id}`,
        resource: { ...r.content, meta: { ...r.content.meta, versionId: version } },
        request: { method: first ? 'POST' : 'PUT', url: first ? 'Consent' : `Consent/${id}` },
        response: {
          status: first ? '201' : '200',
          etag: `W/"${version}"`,
          lastModified: r.validFrom.toISOString(),
        },
      };
    });
    const bundle: Bundle = { resourceType: 'Bundle', type: 'history', total: entry.length, entry };
    sendFhir(res, 200, bundle);
  });
}
