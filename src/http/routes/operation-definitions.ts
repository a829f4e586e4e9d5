// The OperationDefinition of every `$` operation, served at the URL the CapabilityStatement names for it
// (`{BASE_URL}/fhir/OperationDefinition/{id}`), generated from the registry and operation-table.ts. Public, like the
// other conformance resources.
import type { Router } from 'express';
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { operationDefinitionUrl, type RegisteredRoute } from '../capabilities.js';
import type { HttpContext } from '../context.js';
import { baseUrlOf, paging, sendFhir } from '../http.js';
import { operationSpec, type OperationParam } from '../operation-table.js';
import { notFound } from '../../fhir/outcomes.js';
import { searchBundle } from '../search-bundle.js';

function parameterOf(p: OperationParam): OperationDefinitionParameter {
  return {
    name: p.name,
    use: 'in',
    min: p.min,
    max: p.max,
    documentation: p.documentation,
    ...(p.type ? { type: p.type } : {}),
    ...(p.part ? { part: p.part.map(parameterOf) } : {}),
  };
}

/** `request-records` → `RequestRecords`, `Consent-withdraw` → `ConsentWithdraw` (a computable name). */
const nameOf = (id: string) => id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());

export function operationDefinition(
  baseUrl: string,
  route: RegisteredRoute,
  version: string,
): OperationDefinition {
  const id = route.operation!;
  const spec = operationSpec(id, route);
  const code = route.path.slice(route.path.lastIndexOf('$') + 1);
  return {
    resourceType: 'OperationDefinition',
    id,
    url: operationDefinitionUrl(baseUrl, id),
    version,
    name: nameOf(id),
    title: route.summary,
    status: 'active',
    kind: 'operation',
    publisher: 'Ketenpoort',
    description: spec.description,
    affectsState: spec.affectsState,
    code,
    ...(route.type ? { resource: [route.type as 'Patient'] } : {}),
    system: !route.type,
    type: Boolean(route.type) && !route.path.includes(':id'),
    instance: route.path.includes(':id'),
    parameter: [
      ...spec.in.map(parameterOf),
      {
        name: 'return',
        use: 'out',
        min: 1,
        max: '1',
        type: spec.returns,
        documentation: `The answer (${spec.returns})`,
      },
    ],
  };
}

export function operationDefinitionRoutes(ctx: HttpContext, router: Router): void {
  const tag = 'Metadata';
  ctx.caps.interaction('OperationDefinition', 'search-type', {
    method: 'get',
    path: '/fhir/OperationDefinition',
    summary: 'The definitions of the gateway\u2019s operations',
    tag,
  });
  ctx.caps.interaction('OperationDefinition', 'read', {
    method: 'get',
    path: '/fhir/OperationDefinition/:id',
    summary: 'One operation\u2019s definition (the URL the CapabilityStatement names)',
    tag,
  });
  ctx.caps.searchParam('OperationDefinition', 'url', 'uri');
  const all = () => {
    const baseUrl = baseUrlOf(ctx);
    return ctx.caps
      .registeredRoutes()
      .filter((r) => r.operation && r.path.startsWith('/fhir'))
      .map((r) => operationDefinition(baseUrl, r, ctx.version));
  };
  router.get('/OperationDefinition', (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url : undefined;
    const matches = all().filter((d) => !url || d.url === url);
    const { count, offset } = paging(req.query);
    const page = { total: matches.length, resources: matches.slice(offset, offset + count) };
    sendFhir(
      res,
      200,
      searchBundle(baseUrlOf(ctx, req), '/fhir/OperationDefinition', req.query, page, count, offset),
    );
  });
  router.get('/OperationDefinition/:id', (req, res) => {
    const found = all().find((d) => d.id === req.params.id);
    if (!found) throw notFound(`OperationDefinition/${req.params.id} is not known`);
    sendFhir(res, 200, found);
  });
}
