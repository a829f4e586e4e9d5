// The person index and agency directory: create, update, read and search with per-organisation visibility.
import type { Bundle, BundleEntry, Consent, RelatedPerson, Resource } from '@medplum/fhirtypes';
import { personsIn } from '../audit/persons.js';
import { PARENTAL_AUTHORITY_URL } from '../consent/constants.js';
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
import { DIRECTORY_TYPES, PERSON_INDEX_TYPES, sees, type Principal } from '../auth/access.js';
import { checkIfMatch, demand } from '../http/http.js';
import { audit } from '../audit/record.js';
import { badRequest, conflict, FhirError, notFound, outcome, unprocessable } from '../fhir/outcomes.js';
import { lastUpdatedOf, sortOf } from '../http/search-params.js';

export type IndexedType = (typeof PERSON_INDEX_TYPES)[number] | (typeof DIRECTORY_TYPES)[number];
export const INDEXED_TYPES: readonly IndexedType[] = [...PERSON_INDEX_TYPES, ...DIRECTORY_TYPES];

export function isPersonIndexType(type: string): boolean {
  return (PERSON_INDEX_TYPES as readonly string[]).includes(type);
}

function bsnOf(resource: { identifier?: { system?: string; value?: string }[] }): string | undefined {
  return resource.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
}

/**
 * One registration of a person per organisation and BSN (Patient); one parent per child registration and BSN
 * (RelatedPerson). Other organisations keep registrations of their own: see docs/security.md "Person registrations".
 */
function uniqueKeyOf(resource: Resource, org: string): string | null {
  if (resource.resourceType === 'Patient') {
    const bsn = bsnOf(resource);
    return bsn ? `Patient|${org}|${bsn}` : null;
  }
  if (resource.resourceType === 'RelatedPerson') {
    const bsn = bsnOf(resource);
    return bsn && resource.patient?.reference ? `RelatedPerson|${resource.patient.reference}|${bsn}` : null;
  }
  return null;
}

type PersonRef = { ref: string; path: string; types: string[] };

/** A reference to a person of the index: a literal `Type/id`; one by identifier alone cannot be checked, so it is refused. */
function literal(
  reference: { reference?: unknown } | undefined | null,
  path: string,
  types: string[],
): PersonRef {
  return { ref: typeof reference?.reference === 'string' ? reference.reference : '', path, types };
}

/**
 * References a person-index resource makes to persons: each must be a registration of the caller's organisation —
 * the child of a parent, the patient and every person who consented (Patient or RelatedPerson performers), the members
 * of a family.
 */
function personRefsOf(resource: Resource): PersonRef[] {
  switch (resource.resourceType) {
    case 'RelatedPerson':
      return [literal(resource.patient, 'RelatedPerson.patient', ['Patient'])];
    case 'Consent':
      return [
        ...(resource.patient ? [literal(resource.patient, 'Consent.patient', ['Patient'])] : []),
        ...(resource.performer ?? []).flatMap((p, i) =>
          p?.reference === undefined || /^(Patient|RelatedPerson)\//.test(p.reference)
            ? [literal(p, `Consent.performer[${i}]`, ['Patient', 'RelatedPerson'])]
            : [],
        ),
      ];
    case 'Group':
      return (resource.member ?? []).map((m, i) =>
        literal(m?.entity, `Group.member[${i}].entity`, ['Patient', 'RelatedPerson']),
      );
    default:
      return [];
  }
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
            ? `${ref} is not a ${types.join(' or ')} registered by your organisation`
            : `A ${types.join(' or ')} registered by your organisation must be referenced as ${types[0]}/<id>`,
          expression: [path],
        },
      ]);
    }
  }
}

function auditSubject(resource: Resource): { bsn?: string; reference?: string } | undefined {
  if (resource.resourceType === 'Patient')
    return { bsn: bsnOf(resource), reference: `Patient/${resource.id}` };
  if (resource.resourceType === 'RelatedPerson' || resource.resourceType === 'Consent')
    return { reference: resource.patient?.reference };
  return undefined;
}

/** A withdrawn (inactive), rejected or erroneous consent stays so; a new consent is a new resource. */
const FINAL_CONSENT_STATUSES = new Set<Consent['status']>(['inactive', 'rejected', 'entered-in-error']);

export interface WriteResult<T extends Resource = Resource> {
  resource: T;
  status: 200 | 201;
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
): Promise<WriteResult> {
  demand(principal, permissionFor(type, true));
  const resource = accepted(checkFhir<Resource>(body, [type]));
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
        });
      }
      return { resource: existing, status: 200 };
    }
  }
  await checkReferences(tx, principal, fresh as Resource);
  const key = uniqueKeyOf(fresh as Resource, principal.org);
  if (key && (await findByUniqueKey(tx, key))) {
    throw conflict(
      type === 'Patient'
        ? 'Your organisation registered a Patient with this BSN already; use a conditional create (If-None-Exist) to find it'
        : 'This parent is already registered for this child',
    );
  }
  const stored = await createResource(tx, fresh as Resource, principal.org, key);
  if (isPersonIndexType(type)) {
    await audit(tx, principal, {
      subtype: 'create',
      outcome: 'success',
      description: `${type}/${stored.id} registered`,
      patient: auditSubject(stored),
      entities: [{ reference: `${type}/${stored.id}` }],
      details: { facts: factsOf(stored), source: principal.org },
    });
  }
  return { resource: stored, status: 201 };
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
    throw badRequest('If-None-Exist supports exactly one parameter: identifier=<system>|<value>');
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
    throw new FhirError(412, outcome('multiple-matches', 'If-None-Exist matches more than one resource'));
  return found.resources[0];
}

/** The facts of a registration that decisions rely on, for the audit record of a change. */
function factsOf(resource: Resource): string[] {
  const authority = (r: RelatedPerson) =>
    r.extension?.find((e) => e.url === PARENTAL_AUTHORITY_URL)?.valueBoolean;
  switch (resource.resourceType) {
    case 'Patient':
      return [`bsn=${bsnOf(resource) ?? '-'}`, `birthDate=${resource.birthDate ?? '-'}`];
    case 'RelatedPerson':
      return [
        `patient=${resource.patient?.reference ?? '-'}`,
        `bsn=${bsnOf(resource) ?? '-'}`,
        `parentalAuthority=${authority(resource) ?? '-'}`,
      ];
    case 'Group':
      return (resource.member ?? []).map(
        (m) => `member=${m.entity?.reference}${m.inactive ? ' (inactive)' : ''}`,
      );
    case 'Consent':
      return [`status=${resource.status}`, `patient=${resource.patient?.reference ?? '-'}`];
    default:
      return [];
  }
}

/** Which facts a change alters: `name: before → after` for each that differs. */
function changedFacts(before: Resource, after: Resource): string[] {
  const was = new Map(factsOf(before).map((f) => [f.slice(0, f.indexOf('=')), f]));
  const is = factsOf(after);
  if (before.resourceType === 'Group') {
    const a = factsOf(before).sort().join(', ');
    const b = is.sort().join(', ');
    return a === b ? [] : [`members: ${a || '-'} → ${b || '-'}`];
  }
  return is.flatMap((f) => {
    const name = f.slice(0, f.indexOf('='));
    const old = was.get(name);
    return old === f ? [] : [`${name}: ${old?.slice(name.length + 1) ?? '-'} → ${f.slice(name.length + 1)}`];
  });
}

export async function updateIndexed(
  tx: Queryable,
  principal: Principal,
  body: unknown,
  type: string,
  id: string,
  ifMatch?: string,
): Promise<WriteResult> {
  demand(principal, permissionFor(type, true));
  const resource = accepted(checkFhir<Resource>(body, [type]));
  if (resource.id !== id)
    throw badRequest(
      `The resource id (${resource.id ?? 'none'}) must equal the id in the URL (${id})`,
      `${type}.id`,
    );
  const current = await readResource(tx, type, id, { forUpdate: true });
  if (!current || !(await canSee(tx, principal, type, id))) throw notFound(`${type}/${id} is not known`);
  checkIfMatch(ifMatch, current.versionId);
  if (type === 'Consent' && FINAL_CONSENT_STATUSES.has((current.resource as Consent).status)) {
    throw unprocessable([
      {
        severity: 'error',
        code: 'business-rule',
        diagnostics: `Consent/${id} is ${(current.resource as Consent).status}: that is final. A new consent is a new Consent resource.`,
        expression: ['Consent.status'],
      },
    ]);
  }
  await checkReferences(tx, principal, resource);
  const key = uniqueKeyOf(resource, principal.org);
  const holder = key ? await findByUniqueKey(tx, key) : undefined;
  if (holder && holder.id !== id)
    throw conflict('Your organisation registered another resource with this BSN');
  const stored = await updateResource(tx, { ...resource, id }, key);
  if (isPersonIndexType(type)) {
    const changed = changedFacts(current.resource, stored);
    await audit(tx, principal, {
      subtype: 'update',
      outcome: 'success',
      description: `${type}/${id} updated to version ${stored.meta?.versionId}${changed.length ? `; facts changed: ${changed.join('; ')}` : ''}`,
      patient: auditSubject(stored),
      entities: [{ reference: `${type}/${id}` }],
      details: { changed, source: principal.org },
    });
  }
  return { resource: stored, status: 200 };
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
  if (!found || !(await canSee(tx, principal, type, id))) throw notFound(`${type}/${id} is not known`);
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

export const SEARCH_PARAMS: Record<string, string> = {
  identifier: 'token',
  patient: 'reference',
  'patient:identifier': 'token',
  status: 'token',
  member: 'reference',
  organization: 'reference',
  code: 'token',
};
const CONTROL_PARAMS = new Set(['_count', '_offset', '_sort', '_format', '_total', '_lastUpdated']);

/** Turns URL query parameters into search criteria; unknown parameters are a clear 400. */
export function parseSearch(
  query: Record<string, unknown>,
  allowed: Record<string, string> = SEARCH_PARAMS,
): SearchCriterion[] {
  const criteria: SearchCriterion[] = [];
  for (const [name, raw] of Object.entries(query)) {
    if (CONTROL_PARAMS.has(name)) continue;
    if (!(name in allowed))
      throw badRequest(`Unknown search parameter "${name}"; supported: ${Object.keys(allowed).join(', ')}`);
    for (const text of Array.isArray(raw) ? raw : [raw]) {
      if (typeof text !== 'string' || text === '')
        throw badRequest(`Search parameter "${name}" needs a value`);
      const chained = name === 'patient:identifier';
      const tokenLike = allowed[name] === 'token';
      criteria.push({
        param: chained ? 'patient' : name,
        chainedIdentifier: chained,
        values: text.split(',').map((v) => {
          if (tokenLike && v.includes('|')) {
            const [system, value] = v.split('|', 2);
            return { system: system || undefined, value: value ?? '' };
          }
          return {
            value:
              allowed[name] === 'reference' && !v.includes('/') && name === 'patient' ? `Patient/${v}` : v,
          };
        }),
      });
    }
  }
  return criteria;
}

export function searchBundle(
  baseUrl: string,
  path: string,
  query: Record<string, unknown>,
  result: { total: number; resources: Resource[] },
  count: number,
  offset: number,
): Bundle {
  const qs = (o: number) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(query))
      if (k !== '_offset') for (const x of Array.isArray(v) ? v : [v]) p.append(k, String(x));
    p.set('_count', String(count));
    p.set('_offset', String(o));
    return `${baseUrl}${path}?${p.toString()}`;
  };
  const link: Bundle['link'] = [{ relation: 'self', url: qs(offset) }];
  if (offset + count < result.total) link.push({ relation: 'next', url: qs(offset + count) });
  if (offset > 0) link.push({ relation: 'previous', url: qs(Math.max(offset - count, 0)) });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: result.total,
    link,
    entry: result.resources.map((r) => ({
      fullUrl: `${baseUrl}/fhir/${r.resourceType}/${r.id}`,
      resource: r,
      search: { mode: 'match' },
    })),
  };
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

const TRANSACTION_ORDER = ['Organization', 'Endpoint', 'Patient', 'RelatedPerson', 'Group', 'Consent'];

/** Applies every entry of a transaction in one database transaction; urn:uuid references are resolved to the ids given. */
export async function runTransaction(tx: Queryable, principal: Principal, bundle: Bundle): Promise<Bundle> {
  const ids = new Map<string, string>();
  const entries = bundle.entry ?? [];
  const responses: BundleEntry[] = new Array<BundleEntry>(entries.length);
  // Referenced resources first, so that urn:uuid references resolve whatever the entry order.
  const rank = (e: BundleEntry) => TRANSACTION_ORDER.indexOf(e.resource?.resourceType ?? '');
  const order = entries.map((_, i) => i).sort((a, b) => rank(entries[a]!) - rank(entries[b]!) || a - b);
  for (const i of order) {
    const entry = entries[i]!;
    const method = entry.request?.method;
    const type = entry.resource?.resourceType;
    if (!entry.resource || !type || !(INDEXED_TYPES as readonly string[]).includes(type)) {
      throw badRequest(
        `entry[${i}] must hold a ${INDEXED_TYPES.join(', ')} resource`,
        `Bundle.entry[${i}].resource`,
      );
    }
    const resource = resolveUrnRefs(entry.resource, ids);
    try {
      if (method === 'POST') {
        const result = await createIndexed(tx, principal, resource, type, entry.request?.ifNoneExist);
        if (entry.fullUrl?.startsWith('urn:uuid:')) ids.set(entry.fullUrl, `${type}/${result.resource.id}`);
        responses[i] = {
          response: {
            status: `${result.status}`,
            location: `${type}/${result.resource.id}/_history/${result.resource.meta?.versionId}`,
          },
          resource: result.resource,
        };
      } else if (method === 'PUT') {
        const id = entry.request?.url?.split('/')[1];
        if (!id)
          throw badRequest(`entry[${i}].request.url must be ${type}/<id>`, `Bundle.entry[${i}].request.url`);
        const result = await updateIndexed(tx, principal, resource, type, id);
        responses[i] = {
          response: { status: '200', location: `${type}/${id}/_history/${result.resource.meta?.versionId}` },
          resource: result.resource,
        };
      } else {
        throw badRequest(
          `entry[${i}].request.method must be POST or PUT`,
          `Bundle.entry[${i}].request.method`,
        );
      }
    } catch (err) {
      if (err instanceof FhirError) {
        for (const issue of err.outcome.issue ?? [])
          issue.expression = (issue.expression ?? []).map((e) => `Bundle.entry[${i}].resource.${e}`);
        if (!err.outcome.issue?.some((x) => x.expression?.length))
          err.outcome.issue?.forEach((x) => (x.expression = [`Bundle.entry[${i}]`]));
      }
      throw err;
    }
  }
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
}

function resolveUrnRefs<T>(value: T, ids: Map<string, string>): T {
  if (Array.isArray(value)) return value.map((v) => resolveUrnRefs(v, ids)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === 'reference' && typeof v === 'string' && ids.has(v) ? ids.get(v) : resolveUrnRefs(v, ids);
    }
    return out as T;
  }
  return value;
}
