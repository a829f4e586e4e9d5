// Delivery tracking: Task read and search, visible to the two organisations involved and to privacy officers.
import type { Task } from '@medplum/fhirtypes';
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
