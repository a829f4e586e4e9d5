// A page of search results as a FHIR searchset Bundle, with self, next and previous links that keep the query.
import type { Bundle, Resource } from '@medplum/fhirtypes';

/**
 * The searchset of one page. A count of 0 (`_count=0`) asks only how many match: the Bundle has the total and its
 * self link, no entries and no next or previous link.
 */
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
  if (count === 0) return { resourceType: 'Bundle', type: 'searchset', total: result.total, link };
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
