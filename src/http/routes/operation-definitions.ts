// The OperationDefinition of every `$` operation, served at the URL the CapabilityStatement names for it
// (`{BASE_URL}/fhir/OperationDefinition/{id}`), generated from the registry, which holds each operation's parameters
// as its definition in operations/ gives them. Public, like the other conformance resources.
import type { Router } from 'express';
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { operationDefinitionUrl, type RegisteredRoute } from '../capabilities.js';
import type { HttpContext } from '../context.js';
import { routesOn } from '../define-operation.js';
import { baseUrlOf, paging, sendFhir } from '../http.js';
import type { OperationParam, OperationSpec } from '../operation-spec.js';
import { unknownResource } from '../../fhir/outcomes.js';
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
  route: RegisteredRoute & { operation: string; spec: OperationSpec },
  version: string,
): OperationDefinition {
  const id = route.operation;
  const { spec } = route;
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
  const route = routesOn(ctx, router, '/fhir', 'Metadata');
  const all = () => {
    const baseUrl = baseUrlOf(ctx);
    return ctx.caps
      .registeredRoutes()
      .filter((r): r is RegisteredRoute & { operation: string; spec: OperationSpec } =>
        Boolean(r.operation && r.spec && r.path.startsWith('/fhir')),
      )
      .map((r) => operationDefinition(baseUrl, r, ctx.version));
  };
  route(
    {
      method: 'get',
      path: '/OperationDefinition',
      interaction: ['OperationDefinition', 'search-type'],
      summary: 'The definitions of the gateway\u2019s operations',
    },
    (req, res) => {
      const url = typeof req.query.url === 'string' ? req.query.url : undefined;
      const matches = all().filter((d) => !url || d.url === url);
      const { count, offset } = paging(req.query);
      const page = { total: matches.length, resources: matches.slice(offset, offset + count) };
      sendFhir(
        res,
        200,
        searchBundle(baseUrlOf(ctx, req), '/fhir/OperationDefinition', req.query, page, count, offset),
      );
    },
  );
  route(
    {
      method: 'get',
      path: '/OperationDefinition/:id',
      interaction: ['OperationDefinition', 'read'],
      summary: 'One operation\u2019s definition (the URL the CapabilityStatement names)',
    },
    (req, res) => {
      const found = all().find((d) => d.id === req.params.id);
      if (!found) throw unknownResource(`OperationDefinition/${req.params.id}`);
      sendFhir(res, 200, found);
    },
  );
  ctx.caps.searchParam('OperationDefinition', 'url', 'uri');
}
