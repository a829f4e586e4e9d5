// The person index and agency directory: create, update, read and search with per-organisation visibility.
import type { Consent, Resource } from '@medplum/fhirtypes';
import { personsIn } from '../audit/persons.js';
import { checkFhir } from '../mappings/validate.js';
import { accepted } from '../fhir/verdict.js';
import type { Queryable } from '../store/database.js';
import {
  BSN_SYSTEM,
  createResource,
  findByUniqueKey,
  hasAccess,
  readResource,
  searchResources,
  updateResource,
  type SearchCriterion,
} from '../store/resources.js';
import { lastUpdatedOf, parseSearch, sortOf } from '../store/search-params.js';
import { demand, DIRECTORY_TYPES, PERSON_INDEX_TYPES, sees, type Principal } from '../auth/access.js';
import { audit } from '../audit/record.js';
import { checkIfMatch } from '../fhir/versions.js';
import {
  badRequest,
  conflict,
  FhirError,
  outcome,
  unprocessable,
  unknownResource,
} from '../fhir/outcomes.js';
import { auditSubject, changedFacts, factsOf } from './fact-changes.js';
import { personRefsOf, uniqueKeyOf } from './references.js';

export type IndexedType = (typeof PERSON_INDEX_TYPES)[number] | (typeof DIRECTORY_TYPES)[number];
export const INDEXED_TYPES: readonly IndexedType[] = [...PERSON_INDEX_TYPES, ...DIRECTORY_TYPES];

export function isPersonIndexType(type: string): boolean {
  return (PERSON_INDEX_TYPES as readonly string[]).includes(type);
}

function permissionFor(type: string, write: boolean) {
  if (isPersonIndexType(type)) return write ? 'person-index:write' : 'person-index:read';
  return write ? 'directory:write' : 'directory:read';
}

export async function canSee(
  db: Queryable,
  principal: Principal,
  type: string,
  id: string,
): Promise<boolean> {
  if (!isPersonIndexType(type) || sees(principal) === 'all') return true;
  return hasAccess(db, type, id, principal.org);
}

async function checkReferences(tx: Queryable, principal: Principal, resource: Resource): Promise<void> {
  for (const { ref, path, types } of personRefsOf(resource)) {
    const [type, id] = ref.split('/');
    if (
      !type ||
      !types.includes(type) ||
      !id ||
      !(await readResource(tx, type, id)) ||
      !(await canSee(tx, principal, type, id))
    ) {
      throw unprocessable([
        {
          severity: 'error',
          code: 'business-rule',
          diagnostics: ref
            ? `${ref} is geen ${types.join(' of ')} die uw organisatie heeft geregistreerd / ${ref} is not a ${types.join(' or ')} registered by your organisation`
            : `Verwijs naar een ${types.join(' of ')} die uw organisatie heeft geregistreerd, als ${types[0]}/<id> / A ${types.join(' or ')} registered by your organisation must be referenced as ${types[0]}/<id>`,
          expression: [path],
        },
      ]);
    }
  }
}

/** A withdrawn (inactive), rejected or erroneous consent stays so; a new consent is a new resource. */
const FINAL_CONSENT_STATUSES = new Set<Consent['status']>(['inactive', 'rejected', 'entered-in-error']);

export interface WriteResult<T extends Resource = Resource> {
  resource: T;
  /** Whether the write registered a new resource (not a conditional create's match, nor an update). */
  created: boolean;
}

/** The start of every write to the index: the caller may write this type, and the body is a valid one of it. */
function writable(principal: Principal, body: unknown, type: string, at?: Date): Resource {
  demand(principal, permissionFor(type, true));
  return accepted(checkFhir<Resource>(body, [type], { at }));
}

/**
 * Creates a resource of the index. With `ifNoneExist` (`identifier=system|value`) the caller's own matching
 * registration is returned instead; another organisation's registration is never matched, revealed or shared (the
 * caller gets a registration of its own). A plain create of a BSN the caller registered already is a conflict.
 */
export async function createIndexed(
  tx: Queryable,
  principal: Principal,
  body: unknown,
  type: string,
  ifNoneExist?: string,
  at?: Date,
): Promise<WriteResult> {
  const resource = writable(principal, body, type, at);
  const { id: _ignored, meta: _meta, ...fresh } = resource as Resource & { id?: string };
  if (ifNoneExist) {
    const existing = await findExisting(tx, principal, fresh as Resource, ifNoneExist);
    if (existing) {
      if (isPersonIndexType(type)) {
        await audit(tx, principal, {
          subtype: 'read',
          outcome: 'success',
          description: `Conditional create matched the existing ${type}/${existing.id}`,
          patient: auditSubject(existing),
          entities: [{ reference: `${type}/${existing.id}` }],
          recorded: at,
        });
      }
      return { resource: existing, created: false };
    }
  }
  await checkReferences(tx, principal, fresh as Resource);
  const key = uniqueKeyOf(fresh as Resource, principal.org);
  if (key && (await findByUniqueKey(tx, key))) {
    throw conflict(
      type === 'Patient'
        ? 'Uw organisatie heeft al een Patient met dit BSN geregistreerd; zoek die op met een voorwaardelijke create (If-None-Exist) / Your organisation registered a Patient with this BSN already; use a conditional create (If-None-Exist) to find it'
        : 'Deze ouder is al geregistreerd bij dit kind / This parent is already registered for this child',
    );
  }
  const stored = await createResource(tx, fresh as Resource, principal.org, key, at);
  if (isPersonIndexType(type)) {
    await audit(tx, principal, {
      subtype: 'create',
      outcome: 'success',
      description: `${type}/${stored.id} registered`,
      patient: auditSubject(stored),
      entities: [{ reference: `${type}/${stored.id}` }],
      details: { facts: factsOf(stored), source: principal.org },
      recorded: at,
    });
  }
  return { resource: stored, created: true };
}

/** The caller's own registration that a conditional create names (for a parent: of the same child), if any. */
async function findExisting(
  tx: Queryable,
  principal: Principal,
  resource: Resource,
  ifNoneExist: string,
): Promise<Resource | undefined> {
  const query = new URLSearchParams(ifNoneExist);
  const identifier = query.get('identifier');
  if (!identifier || [...query.keys()].length !== 1) {
    throw badRequest(
      'If-None-Exist kent precies één parameter: identifier=<system>|<waarde> / If-None-Exist supports exactly one parameter: identifier=<system>|<value>',
    );
  }
  const [system, value] = identifier.includes('|') ? identifier.split('|', 2) : [undefined, identifier];
  const criteria: SearchCriterion[] = [{ param: 'identifier', values: [{ system, value: value! }] }];
  const patient = (resource as { patient?: { reference?: unknown } }).patient?.reference;
  if (resource.resourceType === 'RelatedPerson' && typeof patient === 'string')
    criteria.push({ param: 'patient', values: [{ value: patient }] });
  const found = await searchResources(tx, {
    type: resource.resourceType,
    criteria,
    // The person index is searched among the caller's own registrations only; the directory is public.
    org: isPersonIndexType(resource.resourceType) ? principal.org : undefined,
    count: 2,
    offset: 0,
    sort: 'asc',
  });
  if (found.total > 1)
    throw new FhirError(
      412,
      outcome(
        'multiple-matches',
        'If-None-Exist past op meer dan één resource / If-None-Exist matches more than one resource',
      ),
    );
  return found.resources[0];
}

export async function updateIndexed(
  tx: Queryable,
  principal: Principal,
  body: unknown,
  type: string,
  id: string,
  ifMatch?: string,
  at?: Date,
): Promise<WriteResult> {
  const resource = writable(principal, body, type, at);
  if (resource.id !== id)
    throw badRequest(
      `Het id van de resource (${resource.id ?? 'geen'}) moet gelijk zijn aan het id in de URL (${id}) / The resource id (${resource.id ?? 'none'}) must equal the id in the URL (${id})`,
      `${type}.id`,
    );
  const current = await readResource(tx, type, id, { forUpdate: true });
  if (!current || !(await canSee(tx, principal, type, id))) throw unknownResource(`${type}/${id}`);
  checkIfMatch(ifMatch, current.versionId);
  const { status } = current.resource as Consent;
  if (type === 'Consent' && FINAL_CONSENT_STATUSES.has(status)) {
    throw unprocessable([
      {
        severity: 'error',
        code: 'business-rule',
        diagnostics: `Consent/${id} heeft status ${status} en dat is definitief: een nieuwe toestemming is een nieuwe Consent-resource / Consent/${id} is ${status}: that is final. A new consent is a new Consent resource.`,
        expression: ['Consent.status'],
      },
    ]);
  }
  await checkReferences(tx, principal, resource);
  const key = uniqueKeyOf(resource, principal.org);
  const holder = key ? await findByUniqueKey(tx, key) : undefined;
  if (holder && holder.id !== id)
    throw conflict(
      'Uw organisatie heeft al een andere resource met dit BSN geregistreerd / Your organisation registered another resource with this BSN',
    );
  const stored = await updateResource(tx, { ...resource, id }, key, at);
  if (isPersonIndexType(type)) {
    const changed = changedFacts(current.resource, stored);
    await audit(tx, principal, {
      subtype: 'update',
      outcome: 'success',
      description: `${type}/${id} updated to version ${stored.meta?.versionId}${changed.length ? `; facts changed: ${changed.join('; ')}` : ''}`,
      patient: auditSubject(stored),
      entities: [{ reference: `${type}/${id}` }],
      details: { changed, source: principal.org },
      recorded: at,
    });
  }
  return { resource: stored, created: false };
}

/** Records the read of personal data; reads use the group-commit writer, which resolves once the record is committed. */
export type ReadRecorder = (input: Parameters<typeof audit>[2]) => Promise<unknown>;

export async function readIndexed(
  tx: Queryable,
  principal: Principal,
  type: string,
  id: string,
  record: ReadRecorder = (input) => audit(tx, principal, input),
): Promise<Resource> {
  demand(principal, permissionFor(type, false));
  const found = await readResource(tx, type, id);
  if (!found || !(await canSee(tx, principal, type, id))) throw unknownResource(`${type}/${id}`);
  if (isPersonIndexType(type)) {
    await record({
      subtype: 'read',
      outcome: 'success',
      description: `${type}/${id} read`,
      patients: personsIn(found.resource),
      entities: [{ reference: `${type}/${id}` }],
    });
  }
  return found.resource;
}

export async function searchIndexed(
  tx: Queryable,
  principal: Principal,
  type: string,
  query: Record<string, unknown>,
  count: number,
  offset: number,
  record: ReadRecorder = (input) => audit(tx, principal, input),
): Promise<{ total: number; resources: Resource[] }> {
  demand(principal, permissionFor(type, false));
  const criteria = parseSearch(query);
  const sort = sortOf(query);
  const result = await searchResources(tx, {
    type,
    criteria,
    lastUpdated: lastUpdatedOf(query),
    org: isPersonIndexType(type) && sees(principal) === 'own' ? principal.org : undefined,
    count,
    offset,
    sort,
  });
  if (isPersonIndexType(type)) {
    const bsnQuery = [query.identifier, query['patient:identifier']].find(
      (v) => typeof v === 'string' && v.startsWith(BSN_SYSTEM),
    );
    await record({
      subtype: 'search',
      outcome: 'success',
      description: `Search ${type} returned ${result.resources.length} of ${result.total}`,
      // Whom the search was about, and every person it returned.
      patient: typeof bsnQuery === 'string' ? { bsn: bsnQuery.split('|')[1] } : undefined,
      patients: result.resources.flatMap(personsIn),
      entities: result.resources.map((r) => ({ reference: `${r.resourceType}/${r.id}` })),
      details: { query: new URLSearchParams(query as Record<string, string>).toString() },
    });
  }
  return result;
}
