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

/** A resource to store as new: the organisation that registers it, others that may read it, its unique key. */
export interface NewResource<T extends AnyResource = AnyResource> {
  resource: T;
  org: string;
  readers?: string[];
  uniqueKey?: string | null;
  /** Its meta.lastUpdated, when it differs from the batch's. */
  at?: Date;
}

/** Stores a new resource; `at` (the request's moment, the system time if absent) is its meta.lastUpdated. */
export async function createResource<T extends AnyResource>(
  tx: Queryable,
  resource: T,
  org: string,
  uniqueKey: string | null = null,
  at: Date = new Date(),
): Promise<T> {
  return (await createResources(tx, [{ resource, org, uniqueKey }], at))[0] as T;
}

/**
 * Stores new resources, at `at` (or each at its own): the rows, their first history versions, their search tokens and who may read
 * them, in one statement (one round trip for a whole batch).
 */
export async function createResources(
  tx: Queryable,
  items: NewResource[],
  at: Date = new Date(),
): Promise<AnyResource[]> {
  if (items.length === 0) return [];
  const stored = items.map((i) => withMeta(i.resource, i.resource.id ?? randomUUID(), 1, i.at ?? at));
  await tx.query(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS i(type text, id text, unique_key text, at timestamptz, content jsonb, tokens jsonb, orgs jsonb)),
     created AS (
       INSERT INTO resources (type, id, version_id, last_updated, unique_key, content)
       SELECT type, id, 1, at, unique_key, content FROM input RETURNING type, id, last_updated, content),
     history AS (
       INSERT INTO resource_history (type, id, version_id, valid_from, content)
       SELECT type, id, 1, last_updated, content FROM created),
     tokens AS (
       INSERT INTO resource_tokens (type, id, param, system, value)
       SELECT c.type, c.id, t.param, t.system, t.value
       FROM created c JOIN input i USING (type, id), jsonb_to_recordset(i.tokens) AS t(param text, system text, value text))
     INSERT INTO resource_orgs (type, id, org)
     SELECT c.type, c.id, o.org FROM created c JOIN input i USING (type, id), jsonb_array_elements_text(i.orgs) AS o(org)
     ON CONFLICT DO NOTHING`,
    [
      JSON.stringify(
        stored.map((r, n) => ({
          type: r.resourceType,
          id: r.id,
          unique_key: items[n]!.uniqueKey ?? null,
          at: r.meta!.lastUpdated,
          content: r,
          tokens: extractTokens(r),
          orgs: [items[n]!.org, ...(items[n]!.readers ?? [])],
        })),
      ),
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
  const [updated] = await updateResources(tx, [{ resource, uniqueKey }], at);
  if (!updated) throw new Error(`update of unknown ${resource.resourceType}/${resource.id}`);
  return updated as T;
}

/**
 * Stores the next versions of resources, all at `at`: each row, the end of its previous version in the history, the
 * new history row and its search tokens, in one statement. Returns the stored resources; one that does not exist is
 * left out.
 */
export async function updateResources(
  tx: Queryable,
  items: { resource: AnyResource & { id: string }; uniqueKey?: string | null }[],
  at: Date = new Date(),
): Promise<AnyResource[]> {
  if (items.length === 0) return [];
  const rows = await tx.query<{ type: string; id: string; version_id: number }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(type text, id text, unique_key text, content jsonb, tokens jsonb)),
     updated AS (
       UPDATE resources r SET version_id = r.version_id + 1, last_updated = $2, unique_key = i.unique_key,
         content = jsonb_set(i.content, '{meta}', coalesce(i.content -> 'meta', '{}'::jsonb) ||
           jsonb_build_object('versionId', (r.version_id + 1)::text, 'lastUpdated', $3::text))
       FROM input i WHERE r.type = i.type AND r.id = i.id RETURNING r.type, r.id, r.version_id, r.content),
     closed AS (
       UPDATE resource_history h SET valid_to = $2 FROM updated u
       WHERE h.type = u.type AND h.id = u.id AND h.valid_to IS NULL),
     added AS (
       INSERT INTO resource_history (type, id, version_id, valid_from, content)
       SELECT type, id, version_id, $2, content FROM updated),
     -- The search tokens replaced in the same statement (the delete does not see the rows inserted beside it).
     gone AS (DELETE FROM resource_tokens t USING updated u WHERE t.type = u.type AND t.id = u.id),
     tokens AS (
       INSERT INTO resource_tokens (type, id, param, system, value)
       SELECT u.type, u.id, t.param, t.system, t.value
       FROM updated u JOIN input i USING (type, id), jsonb_to_recordset(i.tokens) AS t(param text, system text, value text))
     SELECT type, id, version_id FROM updated`,
    [
      JSON.stringify(
        items.map(({ resource, uniqueKey }) => ({
          type: resource.resourceType,
          id: resource.id,
          unique_key: uniqueKey ?? null,
          content: resource,
          tokens: extractTokens(resource),
        })),
      ),
      at,
      at.toISOString(),
    ],
  );
  const versions = new Map(rows.map((r) => [`${r.type}/${r.id}`, r.version_id]));
  return items.flatMap(({ resource }) => {
    const version = versions.get(`${resource.resourceType}/${resource.id}`);
    return version === undefined ? [] : [withMeta(resource, resource.id, version, at)];
  });
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

/** Reads resources of one type by id, in one statement (locked for the caller's transaction with `forUpdate`). */
export async function readResources<T extends Resource>(
  db: Queryable,
  type: string,
  ids: string[],
  opts: { forUpdate?: boolean } = {},
): Promise<Map<string, StoredResource<T>>> {
  const rows = ids.length
    ? await db.query<{ id: string; content: T; version_id: number }>(
        `SELECT id, content, version_id FROM resources WHERE type = $1 AND id = ANY($2::text[])${opts.forUpdate ? ' ORDER BY id FOR UPDATE' : ''}`,
        [type, ids],
      )
    : [];
  return new Map(rows.map((r) => [r.id, { resource: r.content, versionId: r.version_id }]));
}

export async function findByUniqueKey<T extends Resource>(
  db: Queryable,
  key: string,
): Promise<T | undefined> {
  const rows = await db.query<{ content: T }>('SELECT content FROM resources WHERE unique_key = $1', [key]);
  return rows[0]?.content;
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
