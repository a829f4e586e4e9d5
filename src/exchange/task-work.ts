// Delivery tracking: Tasks and notices as the two organisations involved and privacy officers may see them, each
// read and search on record, and the only changes a Task takes (a review, a settled dispute, a client notification).
import type { Communication, Task } from '@medplum/fhirtypes';
import type { GatewayContext } from '../context.js';
import type { Principal } from '../auth/access.js';
import { sees } from '../auth/access.js';
import { personsIn } from '../audit/persons.js';
import { audit, auditRead } from '../audit/record.js';
import { badRequest, forbidden, unprocessable, unknownResource } from '../fhir/outcomes.js';
import { accepted } from '../fhir/verdict.js';
import { checkIfMatch } from '../fhir/versions.js';
import { checkFhir } from '../mappings/validate.js';
import { searchNotices } from '../store/notices.js';
import { hasAccess, readResource, searchResources, updateResource } from '../store/resources.js';
import { lastUpdatedOf, pagingOf, parseSearch, sortOf } from '../store/search-params.js';
import { PERSON_SEARCH_PARAMS, visibleTo } from './tasks.js';

type TaskContext = Pick<GatewayContext, 'db' | 'auditWriter'>;

/** The search parameters of Task, and their types. */
export const TASK_SEARCH = {
  code: 'token',
  status: 'token',
  patient: 'reference',
  'patient:identifier': 'token',
  identifier: 'token',
};

/** One page of a search, as the principal may see it, with the paging it was read with. */
export interface SeenPage<T> {
  total: number;
  resources: T[];
  count: number;
  offset: number;
}

/** A Task as the principal may see it, with its version; on record. */
export async function readTask(
  ctx: TaskContext,
  principal: Principal,
  id: string,
): Promise<{ task: Task; versionId: number }> {
  const found = await readResource<Task>(ctx.db, 'Task', id);
  if (!found || (sees(principal) === 'own' && !(await hasAccess(ctx.db, 'Task', id, principal.org)))) {
    throw unknownResource(`Task/${id}`);
  }
  await auditRead(ctx, principal, {
    subtype: 'read',
    outcome: 'success',
    description: `Task/${id} (${taskCode(found.resource)}) read`,
    patients: personsIn(found.resource),
    entities: [{ reference: `Task/${id}` }],
  });
  return { task: visibleTo(principal, found.resource), versionId: found.versionId };
}

/** Searches Tasks (TASK_SEARCH, `overdue=true`, `_lastUpdated`, `_sort`, paging); research not by person. */
export async function searchTasks(
  ctx: TaskContext,
  principal: Principal,
  search: Record<string, unknown>,
  at: Date,
): Promise<SeenPage<Task>> {
  const { count, offset } = pagingOf(search);
  const { overdue, ...query } = search;
  if (overdue !== undefined && overdue !== 'true')
    throw badRequest('overdue kent alleen de waarde true / overdue takes the value true');
  if (principal.role === 'research' && PERSON_SEARCH_PARAMS.some((p) => p in query))
    throw forbidden(
      'Onderzoek zoekt Tasks niet op persoon of geleverde gegevens / Research does not search Tasks by person or delivered data',
    );
  const result = await searchResources<Task>(ctx.db, {
    type: 'Task',
    criteria: parseSearch(query, TASK_SEARCH),
    lastUpdated: lastUpdatedOf(query),
    dateBefore: overdue ? { path: ['restriction', 'period', 'end'], before: at } : undefined,
    org: sees(principal) === 'own' ? principal.org : undefined,
    count,
    offset,
    sort: sortOf(search),
  });
  return seenPage(ctx, principal, 'Task', search, { ...result, count, offset });
}

const COMMUNICATION_PARAMS = new Set(['about', '_count', '_offset', '_format', '_summary']);

/** Searches the notices to the principal's organisation (`about`, paging). */
export async function searchCommunications(
  ctx: TaskContext,
  principal: Principal,
  search: Record<string, unknown>,
): Promise<SeenPage<Communication>> {
  const unknown = Object.keys(search).filter((k) => !COMMUNICATION_PARAMS.has(k));
  if (unknown.length)
    throw badRequest(
      `Onbekende zoekparameter "${unknown[0]}"; wel ondersteund: about, _count, _offset / Unknown search parameter "${unknown[0]}"; supported: about, _count, _offset`,
    );
  const { count, offset } = pagingOf(search);
  const about = typeof search.about === 'string' ? search.about : undefined;
  const page = await searchNotices(ctx.db, {
    org: principal.org,
    own: sees(principal) === 'own',
    about,
    count,
    offset,
  });
  return seenPage(ctx, principal, 'Communication', search, { ...page, count, offset });
}

/**
 * A page of Tasks or notices as the caller may see it, once the search is on record: the persons the found resources
 * name, and the query.
 */
async function seenPage<T extends Task | Communication>(
  ctx: TaskContext,
  principal: Principal,
  type: 'Task' | 'Communication',
  search: Record<string, unknown>,
  page: SeenPage<T>,
): Promise<SeenPage<T>> {
  const { total, resources } = page;
  await auditRead(ctx, principal, {
    subtype: 'search',
    outcome: 'success',
    description: `Search ${type} returned ${resources.length} of ${total}`,
    patients: resources.flatMap(personsIn),
    entities: resources.map((r) => ({ reference: `${type}/${r.id}` })),
    details: { query: new URLSearchParams(search as Record<string, string>).toString() },
  });
  return { ...page, resources: resources.map((r) => visibleTo(principal, r)) };
}

/**
 * Works a Task: the body (a Task with the same id) is checked against the Task as it is (If-Match, when given, names
 * its version) and the rules of `workTask`; the change is stored and on record together. Returns the stored Task.
 */
export async function workOnTask(
  ctx: Pick<GatewayContext, 'db'>,
  principal: Principal,
  id: string,
  change: { body: unknown; ifMatch: string | undefined },
  at: Date,
): Promise<Task> {
  return ctx.db.transaction(async (tx) => {
    const current = await readResource<Task>(tx, 'Task', id, { forUpdate: true });
    if (!current || (sees(principal) === 'own' && !(await hasAccess(tx, 'Task', id, principal.org))))
      throw unknownResource(`Task/${id}`);
    checkIfMatch(change.ifMatch, current.versionId);
    const incoming = accepted(checkFhir<Task>(change.body, ['Task'], { at }));
    if (incoming.id !== id)
      throw badRequest(
        `Het id van de resource moet gelijk zijn aan het id in de URL (${id}) / The resource id must equal the id in the URL (${id})`,
        'Task.id',
      );
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
}

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
      throw forbidden(
        'Alleen een privacyfunctionaris beoordeelt het gebruik van een wettelijke grondslag / Only a privacy officer reviews legal-exception uses',
      );
    if (!['in-progress', 'completed'].includes(incoming.status))
      throw rule(
        'Een beoordeling gaat naar in-progress of completed / A review goes to in-progress or completed',
        'Task.status',
      );
    if (incoming.status === 'completed') {
      const decision = outputOf(incoming, 'decision')?.valueCode;
      if (decision !== 'approved' && decision !== 'disputed')
        throw rule(
          'Een afgeronde beoordeling heeft output "decision" = approved of disputed nodig / A completed review needs output "decision" = approved or disputed',
          'Task.output',
        );
      if (!outputOf(incoming, 'note')?.valueString?.trim())
        throw rule(
          'Een afgeronde beoordeling heeft een toelichting nodig (output "note") / A completed review needs a note (output "note")',
          'Task.output',
        );
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
      throw forbidden(
        'Alleen een privacyfunctionaris handelt betwiste registraties af / Only a privacy officer settles disputed registrations',
      );
    if (!['in-progress', 'completed'].includes(incoming.status))
      throw rule(
        'Een betwisting gaat naar in-progress of completed / A dispute goes to in-progress or completed',
        'Task.status',
      );
    if (incoming.status === 'completed' && !incoming.note?.some((n) => n.text?.trim()))
      throw rule(
        'Wie een betwisting afhandelt, legt vast wat er is gedaan (note.text) / Settling a dispute needs a note on what was done (note.text)',
        'Task.note',
      );
    return { ...current, status: incoming.status, note: incoming.note ?? current.note };
  }
  if (code === 'notify-client') {
    if (principal.role === 'privacy-officer' || principal.role === 'research')
      throw forbidden(
        'De organisatie die de gegevens verstrekte, informeert de cliënt / The organisation that disclosed the data informs the client',
      );
    if (!['completed', 'on-hold'].includes(incoming.status))
      throw rule(
        'Het informeren van de cliënt wordt afgerond (completed) of met een reden uitgesteld (on-hold) / A client notification is completed, or deferred (on-hold) with a reason',
        'Task.status',
      );
    if (incoming.status === 'on-hold' && !incoming.statusReason?.text?.trim())
      throw rule(
        'Wie het informeren van de cliënt uitstelt, geeft de reden (statusReason.text) / Deferring a client notification needs the reason (statusReason.text)',
        'Task.statusReason',
      );
    return {
      ...current,
      status: incoming.status,
      statusReason: incoming.statusReason,
      output: incoming.output,
      note: incoming.note ?? current.note,
    };
  }
  throw forbidden(
    `Tasks van het type ${code} houdt de gateway zelf bij; ze kunnen niet worden gewijzigd / Tasks of type ${code} are kept by the gateway and cannot be changed`,
  );
}
