// Notices (Communication resources) to an organisation: the exchanges it made that were not delivered.
import type { Communication } from '@medplum/fhirtypes';
import type { Queryable } from './database.js';

/**
 * One page of the notices an organisation may see (`own`: those it has access to; otherwise all), newest first,
 * optionally only those about one resource (a Task), with the total.
 */
export async function searchNotices(
  db: Queryable,
  query: { org: string; own: boolean; about?: string; count: number; offset: number },
): Promise<{ total: number; resources: Communication[] }> {
  const { org, own, about, count, offset } = query;
  const params: unknown[] = [org];
  const filter = about ? ` AND r.content -> 'about' @> $2::jsonb` : '';
  if (about) params.push(JSON.stringify([{ reference: about }]));
  const visible = own
    ? 'EXISTS (SELECT 1 FROM resource_orgs o WHERE o.type = r.type AND o.id = r.id AND o.org = $1)'
    : '$1::text IS NOT NULL';
  const where = `r.type = 'Communication' AND ${visible}${filter}`;
  const [total] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM resources r WHERE ${where}`,
    params,
  );
  const rows =
    count === 0
      ? []
      : await db.query<{ content: Communication }>(
          `SELECT r.content FROM resources r WHERE ${where} ORDER BY r.last_updated DESC LIMIT ${count} OFFSET ${offset}`,
          params,
        );
  return { total: total?.n ?? 0, resources: rows.map((r) => r.content) };
}
