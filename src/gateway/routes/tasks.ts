// Delivery tracking: Task read and search, visible to the two organisations involved and to privacy officers.
import type { Communication, Task } from '@medplum/fhirtypes';
import type { Router } from 'express';
import { hasAccess, readResource, searchResources } from '../../store/resources.js';
import { sees } from '../access.js';
import type { GatewayContext } from '../context.js';
import { baseUrlOf, demand, paging, principalOf, sendFhir } from '../http.js';
import { notFound } from '../outcomes.js';
import { parseSearch, searchBundle } from '../person-index.js';

const TASK_SEARCH = {
  code: 'token',
  status: 'token',
  patient: 'reference',
  'patient:identifier': 'token',
  identifier: 'token',
};

export function taskRoutes(ctx: GatewayContext, router: Router): void {
  const tag = 'Delivery tracking';
  ctx.caps.interaction('Task', 'read', {
    method: 'get',
    path: '/fhir/Task/:id',
    summary: 'Read a delivery or review Task',
    tag,
  });
  ctx.caps.interaction('Task', 'search-type', {
    method: 'get',
    path: '/fhir/Task',
    summary: 'Search Tasks (code, status, patient)',
    tag,
  });
  for (const [name, type] of Object.entries(TASK_SEARCH)) ctx.caps.searchParam('Task', name, type);

  ctx.caps.interaction('Communication', 'search-type', {
    method: 'get',
    path: '/fhir/Communication',
    summary: 'Notices to your organisation (exchanges not delivered)',
    tag,
  });
  ctx.caps.searchParam('Communication', 'about', 'reference');
  router.get('/Communication', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'task:read');
    const { count, offset } = paging(req.query);
    const about = typeof req.query.about === 'string' ? req.query.about : undefined;
    const params: unknown[] = [principal.org];
    const filter = about ? ` AND r.content -> 'about' @> $2::jsonb` : '';
    if (about) params.push(JSON.stringify([{ reference: about }]));
    const visible =
      sees(principal) === 'own'
        ? 'EXISTS (SELECT 1 FROM resource_orgs o WHERE o.type = r.type AND o.id = r.id AND o.org = $1)'
        : '$1::text IS NOT NULL';
    const where = `r.type = 'Communication' AND ${visible}${filter}`;
    const [total] = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM resources r WHERE ${where}`,
      params,
    );
    const rows = await ctx.db.query<{ content: Communication }>(
      `SELECT r.content FROM resources r WHERE ${where} ORDER BY r.last_updated DESC LIMIT ${count} OFFSET ${offset}`,
      params,
    );
    const resources = rows.map((r) => r.content);
    sendFhir(
      res,
      200,
      searchBundle(
        baseUrlOf(ctx, req),
        '/fhir/Communication',
        req.query,
        { total: total?.n ?? 0, resources },
        count,
        offset,
      ),
    );
  });

  router.get('/Task/:id', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'task:read');
    const found = await readResource<Task>(ctx.db, 'Task', req.params.id);
    if (
      !found ||
      (sees(principal) === 'own' && !(await hasAccess(ctx.db, 'Task', req.params.id, principal.org)))
    ) {
      throw notFound(`Task/${req.params.id} is not known`);
    }
    sendFhir(res, 200, found.resource, { ETag: `W/"${found.versionId}"` });
  });

  router.get('/Task', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'task:read');
    const { count, offset } = paging(req.query);
    const result = await searchResources(ctx.db, {
      type: 'Task',
      criteria: parseSearch(req.query, TASK_SEARCH),
      org: sees(principal) === 'own' ? principal.org : undefined,
      count,
      offset,
      sort: req.query._sort === '_lastUpdated' ? 'asc' : 'desc',
    });
    sendFhir(res, 200, searchBundle(baseUrlOf(ctx, req), '/fhir/Task', req.query, result, count, offset));
  });
}
