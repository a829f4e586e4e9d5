// Delivery tracking: Task read and search, visible to the two organisations involved and to privacy officers.
import type { Router } from 'express';
import type { HttpContext } from '../context.js';
import { baseUrlOf, principalOf, sendFhir } from '../http.js';
import { routesOn } from '../define-operation.js';
import { searchBundle } from '../search-bundle.js';
import {
  readTask,
  searchCommunications,
  searchTasks,
  TASK_SEARCH,
  workOnTask,
} from '../../exchange/task-work.js';

export function taskRoutes(ctx: HttpContext, router: Router): void {
  const route = routesOn(ctx, router, '/fhir', 'Delivery tracking');
  const read = {
    interaction: ['Task', 'read'],
    summary: 'Read a delivery or review Task',
    permission: 'task:read',
  } as const;
  route({ method: 'get', path: '/Task/:id', ...read }, async (req, res) => {
    const { task, versionId } = await readTask(ctx, principalOf(res), req.params.id);
    sendFhir(res, 200, task, { ETag: `W/"${versionId}"` });
  });

  const search = {
    interaction: ['Task', 'search-type'],
    summary: 'Search Tasks (code, status, patient)',
    permission: 'task:read',
  } as const;
  route({ method: 'get', path: '/Task', ...search }, async (req, res) => {
    const page = await searchTasks(ctx, principalOf(res), req.query, ctx.clock());
    sendFhir(
      res,
      200,
      searchBundle(baseUrlOf(ctx, req), '/fhir/Task', req.query, page, page.count, page.offset),
    );
  });
  for (const [name, type] of Object.entries(TASK_SEARCH)) ctx.caps.searchParam('Task', name, type);

  const notices = {
    interaction: ['Communication', 'search-type'],
    summary: 'Notices to your organisation (exchanges not delivered)',
    permission: 'task:read',
  } as const;
  route({ method: 'get', path: '/Communication', ...notices }, async (req, res) => {
    const page = await searchCommunications(ctx, principalOf(res), req.query);
    const bundle = searchBundle(
      baseUrlOf(ctx, req),
      '/fhir/Communication',
      req.query,
      page,
      page.count,
      page.offset,
    );
    sendFhir(res, 200, bundle);
  });
  ctx.caps.searchParam('Communication', 'about', 'reference');

  const update = {
    interaction: ['Task', 'update'],
    summary: 'Complete a review (privacy officer) or a client notification (the organisation that owes it)',
  } as const;
  route({ method: 'put', path: '/Task/:id', ...update }, async (req, res) => {
    const updated = await workOnTask(
      ctx,
      principalOf(res),
      String(req.params.id),
      { body: req.body, ifMatch: req.get('if-match') },
      ctx.clock(),
    );
    sendFhir(res, 200, updated, { ETag: `W/"${updated.meta?.versionId}"` });
  });
  ctx.caps.searchParam('Task', 'overdue', 'token');
  ctx.caps.searchParam('Task', '_lastUpdated', 'date');
}
