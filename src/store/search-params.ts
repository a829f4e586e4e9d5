// Search parameters of the resource store as criteria, and the search controls every search of the gateway shares:
// `_count`/`_offset` (400 for what is not a number), `_lastUpdated` with the date semantics of the audit search, and
// `_sort` by last update.
import { DateSearchError, dateRange } from './date-search.js';
import type { SearchCriterion } from './resources.js';
import { badRequest } from '../fhir/outcomes.js';

/** The most resources one page holds; a larger `_count` is served as this many. */
export const MAX_COUNT = 500;

function once(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw badRequest(`${name} mag maar één keer voorkomen / ${name} may be given once`);
  return v;
}

function whole(query: Record<string, unknown>, name: string, fallback: number): number {
  const v = once(query, name);
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v))
    throw badRequest(
      `${name} "${v.slice(0, 40)}" moet een geheel getal van 0 of meer zijn / ${name} must be a whole number of 0 or more`,
    );
  return Number(v);
}

/**
 * `_count` (0–500, default 50; 0 asks only how many match: the total without entries) and `_offset` (default 0): whole
 * numbers, or a 400. `_summary=count` is `_count=0`.
 */
export function pagingOf(query: Record<string, unknown>): { count: number; offset: number } {
  const summary = once(query, '_summary');
  if (summary !== undefined && summary !== 'count')
    throw badRequest(
      `_summary kent alleen count (het aantal, zonder entries) / _summary takes only count (the total, without entries)`,
    );
  return {
    count: summary === 'count' ? 0 : Math.min(whole(query, '_count', 50), MAX_COUNT),
    offset: whole(query, '_offset', 0),
  };
}

/** The `_lastUpdated` values (each may be an OR list), checked here so that a bad date is a 400, never a 500. */
export function lastUpdatedOf(query: Record<string, unknown>): string[] {
  const raw = query._lastUpdated;
  if (raw === undefined) return [];
  const values = Array.isArray(raw) ? raw : [raw];
  for (const value of values) {
    if (typeof value !== 'string' || value === '')
      throw badRequest('_lastUpdated heeft een waarde nodig / _lastUpdated needs a value');
    for (const v of value.split(','))
      try {
        dateRange(v);
      } catch (err) {
        if (err instanceof DateSearchError) throw badRequest(`_lastUpdated: ${err.message}`);
        throw err;
      }
  }
  return values as string[];
}

/** `_sort`: `_lastUpdated` (oldest first) or `-_lastUpdated` (newest first, the default); anything else a 400. */
export function sortOf(query: Record<string, unknown>): 'asc' | 'desc' {
  const v = once(query, '_sort');
  if (v === undefined || v === '-_lastUpdated') return 'desc';
  if (v === '_lastUpdated') return 'asc';
  throw badRequest(
    `_sort "${v.slice(0, 40)}" kan niet; sorteer op _lastUpdated of -_lastUpdated / use _lastUpdated or -_lastUpdated`,
  );
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
const CONTROL_PARAMS = new Set([
  '_count',
  '_offset',
  '_sort',
  '_format',
  '_total',
  '_lastUpdated',
  '_summary',
]);

/** Turns URL query parameters into search criteria; unknown parameters are a clear 400. */
export function parseSearch(
  query: Record<string, unknown>,
  allowed: Record<string, string> = SEARCH_PARAMS,
): SearchCriterion[] {
  const criteria: SearchCriterion[] = [];
  for (const [name, raw] of Object.entries(query)) {
    if (CONTROL_PARAMS.has(name)) continue;
    if (!(name in allowed))
      throw badRequest(
        `Onbekende zoekparameter "${name}"; wel ondersteund: ${Object.keys(allowed).join(', ')} / Unknown search parameter "${name}"; supported: ${Object.keys(allowed).join(', ')}`,
      );
    for (const text of Array.isArray(raw) ? raw : [raw]) {
      if (typeof text !== 'string' || text === '')
        throw badRequest(
          `Zoekparameter "${name}" heeft een waarde nodig / Search parameter "${name}" needs a value`,
        );
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
