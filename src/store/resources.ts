// The resource store: FHIR resources of the person index with their search tokens and owning organisations.
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from './database.js';
import { dateCondition } from './date-search.js';

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';

export interface Token {
  param: string;
  system: string;
  value: string;
}

type AnyResource = Resource;

function refs(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list
    .map((v) => (v && typeof v === 'object' ? (v as { reference?: unknown }).reference : undefined))
    .filter((r): r is string => typeof r === 'string');
}

/** The searchable values of a resource: identifier, status, patient, code, member, organization. */
export function extractTokens(resource: AnyResource): Token[] {
  const tokens: Token[] = [];
  const r = resource as unknown as Record<string, unknown>;
  for (const id of (r.identifier as { system?: string; value?: string }[] | undefined) ?? []) {
    if (id?.value) tokens.push({ param: 'identifier', system: id.system ?? '', value: id.value });
  }
  if (typeof r.status === 'string') tokens.push({ param: 'status', system: '', value: r.status });
  const patientRefs =
    resource.resourceType === 'Task' ? refs(r.for) : resource.resourceType === 'Group' ? [] : refs(r.patient);
  for (const ref of patientRefs) tokens.push({ param: 'patient', system: '', value: ref });
  for (const c of (r.code as { coding?: { system?: string; code?: string }[] } | undefined)?.coding ?? []) {
    if (c.code) tokens.push({ param: 'code', system: c.system ?? '', value: c.code });
  }
  if (resource.resourceType === 'Group') {
    for (const m of (r.member as { entity?: unknown }[] | undefined) ?? []) {
      for (const ref of refs(m.entity)) tokens.push({ param: 'member', system: '', value: ref });
    }
  }
  for (const ref of refs(r.managingOrganization))
    tokens.push({ param: 'organization', system: '', value: ref });
  return tokens;
}

export interface StoredResource<T extends Resource = Resource> {
  resource: T;
  versionId: number;
}

function withMeta<T extends AnyResource>(resource: T, id: string, versionId: number, lastUpdated: Date): T {
  return {
    ...resource,
    id,
    meta: { ...resource.meta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() },
  };
}

/** Stores a new resource; `at` (the request's moment, the system time if absent) is its meta.lastUpdated. */
export async function createResource<T extends AnyResource>(
  tx: Queryable,
  resource: T,
  org: string,
  uniqueKey: string | null = null,
  at: Date = new Date(),
): Promise<T> {
  const id = resource.id ?? randomUUID();
  const now = at;
  const stored = withMeta(resource, id, 1, now);
  // The resource, its first history version, its search tokens and its owner: one statement, one round trip.
  await tx.query(
    `WITH created AS (
       INSERT INTO resources (type, id, version_id, last_updated, unique_key, content)
       VALUES ($1, $2, 1, $3, $4, $5::jsonb) RETURNING type, id, content),
     history AS (
       INSERT INTO resource_history (type, id, version_id, valid_from, content)
       SELECT type, id, 1, $3, content FROM created),
     tokens AS (
       INSERT INTO resource_tokens (type, id, param, system, value)
       SELECT c.type, c.id, t.param, t.system, t.value
       FROM created c, jsonb_to_recordset($6::jsonb) AS t(param text, system text, value text))
     INSERT INTO resource_orgs (type, id, org) SELECT type, id, $7 FROM created ON CONFLICT DO NOTHING`,
    [
      resource.resourceType,
      id,
      now,
      uniqueKey,
      JSON.stringify(stored),
      JSON.stringify(extractTokens(stored)),
      org,
    ],
  );
  return stored;
}

/** Stores a resource's next version; `at` (the request's moment, the system time if absent) is its meta.lastUpdated. */
export async function updateResource<T extends AnyResource>(
  tx: Queryable,
  resource: T & { id: string },
  uniqueKey: string | null = null,
  at: Date = new Date(),
): Promise<T> {
  const now = at;
  // The new version, the end of the previous one in the history and the new history row, in one statement.
  const rows = await tx.query<{ version_id: number }>(
    `WITH updated AS (
       UPDATE resources SET version_id = version_id + 1, last_updated = $3, unique_key = $4,
         content = jsonb_set($5::jsonb, '{meta}', coalesce($5::jsonb -> 'meta', '{}'::jsonb) ||
           jsonb_build_object('versionId', (version_id + 1)::text, 'lastUpdated', $6::text))
       WHERE type = $1 AND id = $2 RETURNING type, id, version_id, content),
     closed AS (
       UPDATE resource_history SET valid_to = $3
       WHERE type = $1 AND id = $2 AND valid_to IS NULL AND EXISTS (SELECT 1 FROM updated)),
     added AS (
       INSERT INTO resource_history (type, id, version_id, valid_from, content)
       SELECT type, id, version_id, $3, content FROM updated),
     -- The search tokens replaced in the same statement (the delete does not see the rows inserted beside it).
     gone AS (DELETE FROM resource_tokens WHERE type = $1 AND id = $2 AND EXISTS (SELECT 1 FROM updated)),
     tokens AS (
       INSERT INTO resource_tokens (type, id, param, system, value)
       SELECT u.type, u.id, t.param, t.system, t.value
       FROM updated u, jsonb_to_recordset($7::jsonb) AS t(param text, system text, value text))
     SELECT version_id FROM updated`,
    [
      resource.resourceType,
      resource.id,
      now,
      uniqueKey,
      JSON.stringify(resource),
      now.toISOString(),
      JSON.stringify(extractTokens(resource)),
    ],
  );
  const versionId = rows[0]?.version_id;
  if (versionId === undefined) throw new Error(`update of unknown ${resource.resourceType}/${resource.id}`);
  return withMeta(resource, resource.id, versionId, now);
}

export async function readResource<T extends Resource>(
  db: Queryable,
  type: string,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<StoredResource<T> | undefined> {
  const rows = await db.query<{ content: T; version_id: number }>(
    `SELECT content, version_id FROM resources WHERE type = $1 AND id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [type, id],
  );
  const row = rows[0];
  return row ? { resource: row.content, versionId: row.version_id } : undefined;
}

export async function findByUniqueKey<T extends Resource>(
  db: Queryable,
  key: string,
): Promise<T | undefined> {
  const rows = await db.query<{ content: T }>('SELECT content FROM resources WHERE unique_key = $1', [key]);
  return rows[0]?.content;
}

export async function grantAccess(tx: Queryable, type: string, id: string, org: string): Promise<void> {
  await tx.query('INSERT INTO resource_orgs (type, id, org) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
    type,
    id,
    org,
  ]);
}

/** Who registered each of these resources (`Type/id`), in one query: reference → organisations. */
export async function ownersOf(db: Queryable, refs: string[]): Promise<Map<string, Set<string>>> {
  const owners = new Map<string, Set<string>>();
  if (refs.length === 0) return owners;
  const rows = await db.query<{ ref: string; org: string }>(
    `SELECT type || '/' || id AS ref, org FROM resource_orgs
     WHERE (type, id) IN (SELECT split_part(r, '/', 1), split_part(r, '/', 2) FROM unnest($1::text[]) AS r)`,
    [refs],
  );
  for (const { ref, org } of rows) {
    const set = owners.get(ref) ?? new Set<string>();
    set.add(org);
    owners.set(ref, set);
  }
  return owners;
}

export async function hasAccess(db: Queryable, type: string, id: string, org: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM resource_orgs WHERE type = $1 AND id = $2 AND org = $3', [
    type,
    id,
    org,
  ]);
  return rows.length > 0;
}

export interface SearchCriterion {
  param: string;
  /** Alternatives (comma-separated in the URL): any one matches. */
  values: { system?: string; value: string }[];
  /** patient:identifier — match the patient reference through the Patient's identifier. */
  chainedIdentifier?: boolean;
}

export interface SearchQuery {
  type: string;
  criteria: SearchCriterion[];
  /** Only resources visible to this organisation; undefined = no restriction (privacy officer, internal use). */
  org?: string;
  count: number;
  offset: number;
  sort: 'asc' | 'desc';
  /** Count all matches (for Bundle.total); internal look-ups skip it. Default true. */
  total?: boolean;
  /** Only resources whose date at this JSON path lies before the moment (overdue Tasks). */
  dateBefore?: { path: string[]; before: Date };
  /** `_lastUpdated` search values (FHIR date prefixes, Amsterdam time unless zoned), all of which must hold. */
  lastUpdated?: string[];
}

/** Searches the index; returns one page and the total number of matches. */
export async function searchResources<T extends Resource>(
  db: Queryable,
  q: SearchQuery,
): Promise<{ total: number; resources: T[] }> {
  const params: unknown[] = [q.type];
  const where: string[] = ['r.type = $1'];
  for (const c of q.criteria) {
    const alternatives = c.values.map((v) => {
      params.push(v.value);
      const valueIdx = params.length;
      let systemClause = '';
      const alias = c.chainedIdentifier ? 'p' : 't';
      if (v.system !== undefined) {
        params.push(v.system);
        systemClause = ` AND ${alias}.system = $${params.length}`;
      }
      if (c.chainedIdentifier) {
        return `EXISTS (SELECT 1 FROM resource_tokens x
                JOIN resource_tokens p ON p.type = 'Patient' AND p.param = 'identifier' AND x.value = 'Patient/' || p.id
                WHERE x.type = r.type AND x.id = r.id AND x.param = 'patient' AND p.value = $${valueIdx}${systemClause})`;
      }
      params.push(c.param);
      return `EXISTS (SELECT 1 FROM resource_tokens t WHERE t.type = r.type AND t.id = r.id AND t.param = $${params.length} AND t.value = $${valueIdx}${systemClause})`;
    });
    where.push(`(${alternatives.join(' OR ')})`);
  }
  if (q.dateBefore) {
    params.push(`{${q.dateBefore.path.join(',')}}`, q.dateBefore.before);
    where.push(`(r.content #>> $${params.length - 1}::text[])::timestamptz < $${params.length}`);
  }
  for (const value of q.lastUpdated ?? []) {
    const p = (v: unknown) => (params.push(v), `$${params.length}`);
    where.push(
      `(${value
        .split(',')
        .map((v) => dateCondition('r.last_updated', v, p))
        .join(' OR ')})`,
    );
  }
  if (q.org !== undefined) {
    params.push(q.org);
    where.push(
      `EXISTS (SELECT 1 FROM resource_orgs o WHERE o.type = r.type AND o.id = r.id AND o.org = $${params.length})`,
    );
  }
  const whereSql = where.join(' AND ');
  const countRows =
    q.total === false
      ? []
      : await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resources r WHERE ${whereSql}`, params);
  // A count of 0 asks for the total alone (`_count=0`): no page to read.
  const rows =
    q.count === 0
      ? []
      : await db.query<{ content: T }>(
          `SELECT r.content FROM resources r WHERE ${whereSql}
     ORDER BY r.last_updated ${q.sort === 'asc' ? 'ASC' : 'DESC'}, r.id LIMIT ${q.count} OFFSET ${q.offset}`,
          params,
        );
  return { total: countRows[0]?.n ?? rows.length, resources: rows.map((r) => r.content) };
}

/** The versions current at a moment of the resources of a type that point at one of the given patients. */
export async function resourcesAsOf<T extends Resource>(
  db: Queryable,
  type: string,
  patientRefs: string[],
  at: Date,
): Promise<T[]> {
  const rows = await db.query<{ content: T }>(
    `SELECT content FROM resource_history
     WHERE type = $1 AND content -> 'patient' ->> 'reference' = ANY($2::text[]) AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)`,
    [type, patientRefs, at],
  );
  return rows.map((r) => r.content);
}

/** The version of one resource current at a moment. */
export async function readAsOf<T extends Resource>(
  db: Queryable,
  type: string,
  id: string,
  at: Date,
): Promise<T | undefined> {
  const rows = await db.query<{ content: T }>(
    'SELECT content FROM resource_history WHERE type = $1 AND id = $2 AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)',
    [type, id, at],
  );
  return rows[0]?.content;
}
