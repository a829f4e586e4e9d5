// A transaction Bundle of person-index and directory resources: every entry applied in one database transaction.
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { Principal } from '../auth/access.js';
import { badRequest, FhirError } from '../fhir/outcomes.js';
import type { Queryable } from '../store/database.js';
import { createIndexed, INDEXED_TYPES, updateIndexed } from './records.js';

const TRANSACTION_ORDER = ['Organization', 'Endpoint', 'Patient', 'RelatedPerson', 'Group', 'Consent'];

/**
 * Applies every entry of a transaction in one database transaction; urn:uuid references are resolved to the ids given.
 * `at` is the request's moment, which every entry is stored and recorded at.
 */
export async function runTransaction(
  tx: Queryable,
  principal: Principal,
  bundle: Bundle,
  at?: Date,
): Promise<Bundle> {
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
        `entry[${i}] moet een resource bevatten van een van de typen ${INDEXED_TYPES.join(', ')} / entry[${i}] must hold a ${INDEXED_TYPES.join(', ')} resource`,
        `Bundle.entry[${i}].resource`,
      );
    }
    // The entry's URL names the type it writes (`Patient`, `Patient/<id>`): it must be the resource's own.
    const urlType = entry.request?.url?.split(/[/?]/)[0];
    if (urlType !== undefined && urlType !== type)
      throw badRequest(
        `entry[${i}].request.url noemt ${urlType}, maar de resource is een ${type} / entry[${i}].request.url names ${urlType}, but the resource is a ${type}`,
        `Bundle.entry[${i}].request.url`,
      );
    const resource = resolveUrnRefs(entry.resource, ids);
    try {
      if (method === 'POST') {
        const result = await createIndexed(tx, principal, resource, type, entry.request?.ifNoneExist, at);
        if (entry.fullUrl?.startsWith('urn:uuid:')) ids.set(entry.fullUrl, `${type}/${result.resource.id}`);
        responses[i] = {
          response: {
            status: result.created ? '201' : '200',
            location: `${type}/${result.resource.id}/_history/${result.resource.meta?.versionId}`,
          },
          resource: result.resource,
        };
      } else if (method === 'PUT') {
        const id = entry.request?.url?.split('/')[1];
        if (!id)
          throw badRequest(
            `entry[${i}].request.url moet ${type}/<id> zijn / entry[${i}].request.url must be ${type}/<id>`,
            `Bundle.entry[${i}].request.url`,
          );
        const result = await updateIndexed(tx, principal, resource, type, id, undefined, at);
        responses[i] = {
          response: { status: '200', location: `${type}/${id}/_history/${result.resource.meta?.versionId}` },
          resource: result.resource,
        };
      } else {
        throw badRequest(
          `entry[${i}].request.method moet POST of PUT zijn / entry[${i}].request.method must be POST or PUT`,
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
