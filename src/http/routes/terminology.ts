// Terminology: the gateway's CodeSystems (from profiles/), a ValueSet of all codes of each, and its profiles, to search
// and read ($validate-code and $expand are in operations/). Read-only and free of personal data, so served without a
// token.
import type { Resource } from '@medplum/fhirtypes';
import type { Request, Router } from 'express';
import { loadCodeSystems, loadStructureDefinitions } from '../../mappings/profiles.js';
import { valueSetOf } from '../code-systems.js';
import type { HttpContext } from '../context.js';
import { routesOn } from '../define-operation.js';
import { baseUrlOf, paging, sendFhir } from '../http.js';
import { unknownResource } from '../../fhir/outcomes.js';
import { searchBundle } from '../search-bundle.js';

export function terminologyRoutes(ctx: HttpContext, router: Router): void {
  const route = routesOn(ctx, router, '/fhir', 'Terminology');
  /** A search of a fixed list by its search parameters (each an exact match on the element of that name). */
  const list = <T extends Resource>(req: Request, type: string, all: readonly T[], params: string[]) => {
    const asked = params.flatMap((p) =>
      typeof req.query[p] === 'string' ? [[p, req.query[p]] as const] : [],
    );
    const matches = all.filter((r) =>
      asked.every(([p, v]) => (r as unknown as Record<string, unknown>)[p] === v),
    );
    const { count, offset } = paging(req.query);
    return searchBundle(
      baseUrlOf(ctx, req),
      `/fhir/${type}`,
      req.query,
      { total: matches.length, resources: matches.slice(offset, offset + count) },
      count,
      offset,
    );
  };
  /** Search and read of one type over a fixed list. */
  const served = <T extends Resource>(
    type: 'CodeSystem' | 'ValueSet' | 'StructureDefinition',
    all: readonly T[],
    summaries: [search: string, read: string],
    params: Record<string, string>,
  ) => {
    route(
      { method: 'get', path: `/${type}`, interaction: [type, 'search-type'], summary: summaries[0] },
      (req, res) => sendFhir(res, 200, list(req, type, all, Object.keys(params))),
    );
    route(
      { method: 'get', path: `/${type}/:id`, interaction: [type, 'read'], summary: summaries[1] },
      (req, res) => {
        const found = all.find((r) => r.id === req.params.id);
        if (!found) throw unknownResource(`${type}/${req.params.id}`);
        sendFhir(res, 200, found);
      },
    );
    for (const [name, paramType] of Object.entries(params)) ctx.caps.searchParam(type, name, paramType);
  };

  const systems = loadCodeSystems();
  served('CodeSystem', systems, ['The gateway\u2019s CodeSystems', 'One CodeSystem'], { url: 'uri' });
  served('ValueSet', systems.map(valueSetOf), ['The gateway\u2019s ValueSets', 'One ValueSet'], {
    url: 'uri',
  });
  // The profiles and extensions, generated from profiles/src/profiles.json (npm run profiles).
  served(
    'StructureDefinition',
    loadStructureDefinitions(),
    ['The gateway\u2019s profiles and extensions (with snapshots)', 'One profile or extension'],
    { url: 'uri', type: 'token' },
  );
}
