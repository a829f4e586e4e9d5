// Delivery tracking: Task read and search, visible to the two organisations involved and to privacy officers.
import type { Communication, Task } from '@medplum/fhirtypes';
import type { Request, Response, Router } from 'express';
import { personsIn } from '../../audit/persons.js';
import { checkFhir } from '../../mappings/validate.js';
import { accepted } from '../../fhir/verdict.js';
import { hasAccess, readResource, searchResources, updateResource } from '../../store/resources.js';
import type { Principal } from '../../auth/access.js';
import { sees } from '../../auth/access.js';
import type { HttpContext } from '../context.js';
import { baseUrlOf, paging, principalOf, sendFhir } from '../http.js';
import { checkIfMatch } from '../../fhir/versions.js';
import { routesOn } from '../define-operation.js';
import { audit, auditRead } from '../../audit/record.js';
import { badRequest, forbidden, notFound, unprocessable } from '../../fhir/outcomes.js';
import { searchBundle } from '../search-bundle.js';
import { lastUpdatedOf, parseSearch, sortOf } from '../../store/search-params.js';
import { PERSON_SEARCH_PARAMS, visibleTo } from '../../exchange/tasks.js';

const TASK_SEARCH = {
  code: 'token',
  status: 'token',
  patient: 'reference',
  'patient:identifier': 'token',
  identifier: 'token',
};

export function taskRoutes(ctx: HttpContext, router: Router): void {
  const route = routesOn(ctx, router, '/fhir', 'Delivery tracking');
  const read = {
    interaction: ['Task', 'read'],
    summary: 'Read a delivery or review Task',
    permission: 'task:read',
  } as const;
  route({ method: 'get', path: '/Task/:id', ...read }, async (req, res) => {
    const principal = principalOf(res);
    const found = await readResource<Task>(ctx.db, 'Task', req.params.id);
    if (
      !found ||
      (sees(principal) === 'own' && !(await hasAccess(ctx.db, 'Task', req.params.id, principal.org)))
    ) {
      throw notFound(`Task/${req.params.id} is not known`);
    }
    await auditRead(ctx, principal, {
      subtype: 'read',
      outcome: 'success',
      description: `Task/${req.params.id} (${taskCode(found.resource)}) read`,
      patients: personsIn(found.resource),
      entities: [{ reference: `Task/${req.params.id}` }],
    });
    sendFhir(res, 200, visibleTo(principal, found.resource), { ETag: `W/"${found.versionId}"` });
  });

  const search = {
    interaction: ['Task', 'search-type'],
    summary: 'Search Tasks (code, status, patient)',
    permission: 'task:read',
  } as const;
  route({ method: 'get', path: '/Task', ...search }, async (req, res) => {
    const principal = principalOf(res);
    const { count, offset } = paging(req.query);
    const { overdue, ...query } = req.query;
    if (overdue !== undefined && overdue !== 'true') throw badRequest('overdue takes the value true');
    if (principal.role === 'research' && PERSON_SEARCH_PARAMS.some((p) => p in query))
      throw forbidden(
        'Onderzoek zoekt Tasks niet op persoon of geleverde gegevens (research does not search Tasks by person or delivered data)',
      );
    const result = await searchResources<Task>(ctx.db, {
      type: 'Task',
      criteria: parseSearch(query, TASK_SEARCH),
      lastUpdated: lastUpdatedOf(query),
      dateBefore: overdue ? { path: ['restriction', 'period', 'end'], before: ctx.clock() } : undefined,
      org: sees(principal) === 'own' ? principal.org : undefined,
      count,
      offset,
      sort: sortOf(req.query),
    });
    await answerSearch(ctx, req, res, 'Task', result, count, offset);
  });
  for (const [name, type] of Object.entries(TASK_SEARCH)) ctx.caps.searchParam('Task', name, type);

  const notices = {
    interaction: ['Communication', 'search-type'],
    summary: 'Notices to your organisation (exchanges not delivered)',
    permission: 'task:read',
  } as const;
  route({ method: 'get', path: '/Communication', ...notices }, async (req, res) => {
    const principal = principalOf(res);
    const unknown = Object.keys(req.query).filter((k) => !COMMUNICATION_PARAMS.has(k));
    if (unknown.length)
      throw badRequest(`Unknown search parameter "${unknown[0]}"; supported: about, _count, _offset`);
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
    const page = { total: total?.n ?? 0, resources: rows.map((r) => r.content) };
    await answerSearch(ctx, req, res, 'Communication', page, count, offset);
  });
  ctx.caps.searchParam('Communication', 'about', 'reference');

  const update = {
    interaction: ['Task', 'update'],
    summary: 'Complete a review (privacy officer) or a client notification (the organisation that owes it)',
  } as const;
  route({ method: 'put', path: '/Task/:id', ...update }, async (req, res) => {
    const principal = principalOf(res);
    const id = String(req.params.id);
    const at = ctx.clock();
    const updated = await ctx.db.transaction(async (tx) => {
      const current = await readResource<Task>(tx, 'Task', id, { forUpdate: true });
      if (!current || (sees(principal) === 'own' && !(await hasAccess(tx, 'Task', id, principal.org))))
        throw notFound(`Task/${id} is not known`);
      checkIfMatch(req.get('if-match'), current.versionId);
      const incoming = accepted(checkFhir<Task>(req.body, ['Task'], { at }));
      if (incoming.id !== id)
        throw badRequest(`The resource id must equal the id in the URL (${id})`, 'Task.id');
      const next = workTask(principal, current.resource, incoming);
      const stored = await updateResource(tx, { ...next, id, lastModified: at.toISOString() }, null, at);
      await audit(tx, principal, {
        subtype: 'update',
        outcome: 'success',
        description: `Task/${id} (${taskCode(current.resource)}) set to ${next.status}`,
        patient: { reference: current.resource.for?.reference },
        entities: [{ reference: `Task/${id}` }],
        recorded: at,
        details: Object.fromEntries(
          (next.output ?? []).map((o) => [
            o.type.text ?? 'output',
            String(o.valueCode ?? o.valueString ?? o.valueDateTime ?? ''),
          ]),
        ),
      });
      return stored;
    });
    sendFhir(res, 200, updated, { ETag: `W/"${updated.meta?.versionId}"` });
  });
  ctx.caps.searchParam('Task', 'overdue', 'token');
  ctx.caps.searchParam('Task', '_lastUpdated', 'date');
}

/**
 * Answers a search of Tasks or notices with the page as the caller may see it, once the search is on record: the
 * persons the found resources name, and the query.
 */
async function answerSearch(
  ctx: HttpContext,
  req: Request,
  res: Response,
  type: 'Task' | 'Communication',
  page: { total: number; resources: (Task | Communication)[] },
  count: number,
  offset: number,
): Promise<void> {
  const principal = principalOf(res);
  const { total, resources } = page;
  await auditRead(ctx, principal, {
    subtype: 'search',
    outcome: 'success',
    description: `Search ${type} returned ${resources.length} of ${total}`,
    patients: resources.flatMap(personsIn),
    entities: resources.map((r) => ({ reference: `${type}/${r.id}` })),
    details: { query: new URLSearchParams(req.query as Record<string, string>).toString() },
  });
  const visible = { total, resources: resources.map((r) => visibleTo(principal, r)) };
  sendFhir(res, 200, searchBundle(baseUrlOf(ctx, req), `/fhir/${type}`, req.query, visible, count, offset));
}

const COMMUNICATION_PARAMS = new Set(['about', '_count', '_offset', '_format']);
const taskCode = (t: Task) => t.code?.coding?.[0]?.code ?? 'unknown';
const outputOf = (t: Task, name: string) => t.output?.find((o) => o.type.text === name);

function rule(diagnostics: string, expression: string) {
  return unprocessable([{ severity: 'error', code: 'business-rule', diagnostics, expression: [expression] }]);
}

/**
 * The only changes a Task takes: a privacy officer completes a legal-exception review (approved or disputed, with
 * a note) or settles a dispute between registrations (with a note); the organisation that owes a client notification records it as done or defers it with a reason.
 * Everything else in the Task stays as the gateway wrote it.
 */
export function workTask(principal: Principal, current: Task, incoming: Task): Task {
  const code = taskCode(current);
  if (code === 'legal-exception-review') {
    if (principal.role !== 'privacy-officer')
      throw forbidden('Only a privacy officer reviews legal-exception uses');
    if (!['in-progress', 'completed'].includes(incoming.status))
      throw rule('A review goes to in-progress or completed', 'Task.status');
    if (incoming.status === 'completed') {
      const decision = outputOf(incoming, 'decision')?.valueCode;
      if (decision !== 'approved' && decision !== 'disputed')
        throw rule('A completed review needs output "decision" = approved or disputed', 'Task.output');
      if (!outputOf(incoming, 'note')?.valueString?.trim())
        throw rule('A completed review needs a note (output "note")', 'Task.output');
    }
    return {
      ...current,
      status: incoming.status,
      output: incoming.output,
      note: incoming.note ?? current.note,
    };
  }
  if (code === 'registration-conflict') {
    if (principal.role !== 'privacy-officer')
      throw forbidden('Only a privacy officer settles disputed registrations');
    if (!['in-progress', 'completed'].includes(incoming.status))
      throw rule('A dispute goes to in-progress or completed', 'Task.status');
    if (incoming.status === 'completed' && !incoming.note?.some((n) => n.text?.trim()))
      throw rule('Settling a dispute needs a note on what was done (note.text)', 'Task.note');
    return { ...current, status: incoming.status, note: incoming.note ?? current.note };
  }
  if (code === 'notify-client') {
    if (principal.role === 'privacy-officer' || principal.role === 'research')
      throw forbidden('The organisation that disclosed the data informs the client');
    if (!['completed', 'on-hold'].includes(incoming.status))
      throw rule('A client notification is completed, or deferred (on-hold) with a reason', 'Task.status');
    if (incoming.status === 'on-hold' && !incoming.statusReason?.text?.trim())
      throw rule('Deferring a client notification needs the reason (statusReason.text)', 'Task.statusReason');
    return {
      ...current,
      status: incoming.status,
      statusReason: incoming.statusReason,
      output: incoming.output,
      note: incoming.note ?? current.note,
    };
  }
  throw forbidden(`Tasks of type ${code} are kept by the gateway and cannot be changed`);
}
