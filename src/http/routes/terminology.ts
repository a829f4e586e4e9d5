// Terminology: the gateway's CodeSystems (from profiles/) and a ValueSet of all codes of each, with $validate-code
// and $expand. Read-only and free of personal data, so served without a token.
import type { CodeSystem, Parameters, ValueSet } from '@medplum/fhirtypes';
import type { Request, Router } from 'express';
import {
  displayIn,
  flattenConcepts,
  loadCodeSystems,
  loadStructureDefinitions,
} from '../../mappings/profiles.js';
import type { HttpContext } from '../context.js';
import { baseUrlOf, paging, sendFhir } from '../http.js';
import { badRequest, notFound } from '../../fhir/outcomes.js';
import { searchBundle } from '../search-bundle.js';

/** The ValueSet of all codes of a CodeSystem: same id, url with /ValueSet/ in place of /CodeSystem/. */
function valueSetOf(cs: CodeSystem): ValueSet {
  return {
    resourceType: 'ValueSet',
    id: cs.id,
    url: cs.url!.replace('/CodeSystem/', '/ValueSet/'),
    version: cs.version,
    name: `${cs.name}All`,
    title: `All ${cs.title ?? cs.name}`,
    status: cs.status,
    publisher: cs.publisher,
    description: `Every code of ${cs.url}.`,
    compose: { include: [{ system: cs.url }] },
  };
}

export function terminologyRoutes(ctx: HttpContext, router: Router): void {
  const systems = loadCodeSystems();
  const byId = new Map(systems.map((cs) => [cs.id!, cs]));
  const byUrl = new Map(systems.map((cs) => [cs.url!, cs]));
  const valueSets = systems.map(valueSetOf);
  const tag = 'Terminology';
  ctx.caps.interaction('CodeSystem', 'search-type', {
    method: 'get',
    path: '/fhir/CodeSystem',
    summary: 'The gateway\u2019s CodeSystems',
    tag,
  });
  ctx.caps.interaction('CodeSystem', 'read', {
    method: 'get',
    path: '/fhir/CodeSystem/:id',
    summary: 'One CodeSystem',
    tag,
  });
  ctx.caps.typeOperation('CodeSystem', 'validate-code', {
    method: 'get',
    path: '/fhir/CodeSystem/$validate-code',
    summary: 'Is this code in the CodeSystem?',
    tag,
  });
  ctx.caps.interaction('ValueSet', 'search-type', {
    method: 'get',
    path: '/fhir/ValueSet',
    summary: 'The gateway\u2019s ValueSets',
    tag,
  });
  ctx.caps.interaction('ValueSet', 'read', {
    method: 'get',
    path: '/fhir/ValueSet/:id',
    summary: 'One ValueSet',
    tag,
  });
  ctx.caps.typeOperation('ValueSet', 'expand', {
    method: 'get',
    path: '/fhir/ValueSet/$expand',
    summary: 'Expand a ValueSet (filter, displayLanguage)',
    tag,
  });
  ctx.caps.typeOperation('ValueSet', 'validate-code', {
    method: 'get',
    path: '/fhir/ValueSet/$validate-code',
    summary: 'Is this code in the ValueSet?',
    tag,
  });
  for (const type of ['CodeSystem', 'ValueSet']) ctx.caps.searchParam(type, 'url', 'uri');

  const list = <T extends CodeSystem | ValueSet>(req: Request, type: string, all: T[]) => {
    const url = typeof req.query.url === 'string' ? req.query.url : undefined;
    const matches = all.filter((r) => !url || r.url === url);
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
  const systemFor = (req: Request, kind: 'CodeSystem' | 'ValueSet'): CodeSystem => {
    const url = String(req.query.url ?? req.query.system ?? '');
    const cs = kind === 'CodeSystem' ? byUrl.get(url) : byUrl.get(url.replace('/ValueSet/', '/CodeSystem/'));
    if (!url) throw badRequest('Parameter "url" is required');
    if (!cs) throw notFound(`No ${kind} with url ${url}`);
    return cs;
  };
  const validate = (req: Request, kind: 'CodeSystem' | 'ValueSet'): Parameters => {
    const cs = systemFor(req, kind);
    const code = typeof req.query.code === 'string' ? req.query.code : undefined;
    if (!code) throw badRequest('Parameter "code" is required');
    const concept = flattenConcepts(cs.concept).find((c) => c.code === code);
    return {
      resourceType: 'Parameters',
      parameter: [
        { name: 'result', valueBoolean: !!concept },
        ...(concept
          ? [{ name: 'display', valueString: concept.display ?? code }]
          : [{ name: 'message', valueString: `Code "${code}" is not in ${cs.url}` }]),
      ],
    };
  };

  router.get('/CodeSystem/\\$validate-code', (req, res) => sendFhir(res, 200, validate(req, 'CodeSystem')));
  router.get('/ValueSet/\\$validate-code', (req, res) => sendFhir(res, 200, validate(req, 'ValueSet')));
  router.get('/ValueSet/\\$expand', (req, res) => {
    const cs = systemFor(req, 'ValueSet');
    const filter = typeof req.query.filter === 'string' ? req.query.filter.toLowerCase() : '';
    const lang = typeof req.query.displayLanguage === 'string' ? req.query.displayLanguage : undefined;
    const contains = flattenConcepts(cs.concept)
      .map((c) => ({ system: cs.url, code: c.code, display: displayIn(c, lang) }))
      .filter(
        (c) =>
          !filter ||
          c.code!.toLowerCase().includes(filter) ||
          (c.display ?? '').toLowerCase().includes(filter),
      );
    sendFhir(res, 200, {
      ...valueSetOf(cs),
      expansion: { timestamp: new Date().toISOString(), total: contains.length, contains },
    });
  });
  router.get('/CodeSystem', (req, res) => sendFhir(res, 200, list(req, 'CodeSystem', systems)));
  router.get('/ValueSet', (req, res) => sendFhir(res, 200, list(req, 'ValueSet', valueSets)));
  router.get('/CodeSystem/:id', (req, res) => {
    const cs = byId.get(req.params.id);
    if (!cs) throw notFound(`CodeSystem/${req.params.id} is not known`);
    sendFhir(res, 200, cs);
  });
  router.get('/ValueSet/:id', (req, res) => {
    const vs = valueSets.find((v) => v.id === req.params.id);
    if (!vs) throw notFound(`ValueSet/${req.params.id} is not known`);
    sendFhir(res, 200, vs);
  });

  // The profiles and extensions, generated from profiles/src/profiles.json (npm run profiles).
  const definitions = loadStructureDefinitions();
  ctx.caps.interaction('StructureDefinition', 'search-type', {
    method: 'get',
    path: '/fhir/StructureDefinition',
    summary: 'The gateway\u2019s profiles and extensions (with snapshots)',
    tag,
  });
  ctx.caps.interaction('StructureDefinition', 'read', {
    method: 'get',
    path: '/fhir/StructureDefinition/:id',
    summary: 'One profile or extension',
    tag,
  });
  for (const p of ['url', 'type'])
    ctx.caps.searchParam('StructureDefinition', p, p === 'url' ? 'uri' : 'token');
  router.get('/StructureDefinition', (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url : undefined;
    const type = typeof req.query.type === 'string' ? req.query.type : undefined;
    const matches = definitions.filter((d) => (!url || d.url === url) && (!type || d.type === type));
    const { count, offset } = paging(req.query);
    sendFhir(
      res,
      200,
      searchBundle(
        baseUrlOf(ctx, req),
        '/fhir/StructureDefinition',
        req.query,
        { total: matches.length, resources: matches.slice(offset, offset + count) },
        count,
        offset,
      ),
    );
  });
  router.get('/StructureDefinition/:id', (req, res) => {
    const sd = definitions.find((d) => d.id === req.params.id);
    if (!sd) throw notFound(`StructureDefinition/${req.params.id} is not known`);
    sendFhir(res, 200, sd);
  });
}
