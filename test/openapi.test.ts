// The machine-readable descriptions an integrator's tools read: the OpenAPI 3.1 document (validated by
// @readme/openapi-parser), and every conformance resource the gateway serves (validated by @medplum/core, with the
// FHIRPath invariants such as sdf-3), including the OperationDefinitions at the URLs the CapabilityStatement names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '@readme/openapi-parser';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, CapabilityStatement, OperationDefinition, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../src/mappings/validate.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { ENGINES, fhir, freshDatabase, sandboxToken, testSandbox } from './helpers.js';

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: { $ref?: string } }> }>;
  security: Record<string, string[]>[];
}
type Paths = Record<string, Record<string, Operation>>;

/** The problems @medplum/core finds in a resource (errors only), as text. */
function problemsOf(resource: Resource): string[] {
  try {
    validateResource(resource);
    return [];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    return (err.outcome.issue ?? [])
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map(
        (i) =>
          `${resource.resourceType}/${resource.id ?? ''} ${i.expression?.join(',') ?? ''}: ${i.details?.text ?? i.diagnostics}`,
      );
  }
}

describe.each(ENGINES)('API descriptions and conformance resources (%s)', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let doc: { openapi: string; paths: Paths; components: Record<string, Record<string, unknown>> };
  beforeAll(async () => {
    loadFhirDefinitions();
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    doc = (await (await fetch(`${sandbox.url}/openapi.json`)).json()) as typeof doc;
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('serves an OpenAPI 3.1 document that @readme/openapi-parser accepts', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors.map((e) => e.message)).toEqual([]);
  });

  it('declares every path parameter, the request bodies and the search parameters', () => {
    const toFhir = doc.paths['/mappings/{format}/$to-fhir']!.post!;
    expect(toFhir.parameters).toContainEqual(expect.objectContaining({ name: 'format', in: 'path' }));
    expect(Object.keys(toFhir.requestBody!.content)).toEqual(['application/json', 'text/csv']);
    const exchange = doc.paths['/fhir/$exchange']!.post!;
    expect(exchange.requestBody!.content['application/fhir+json']!.schema.$ref).toBe(
      '#/components/schemas/Parameters',
    );
    expect(exchange.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
    );
    const search = doc.paths['/fhir/Patient']!.get!;
    expect(search.parameters!.map((p) => p.name)).toEqual(
      expect.arrayContaining(['identifier', 'patient:identifier', '_count', '_offset']),
    );
    const create = doc.paths['/fhir/Consent']!.post!;
    expect(create.requestBody!.content['application/fhir+json']!.schema.$ref).toBe(
      '#/components/schemas/Consent',
    );
    expect(create.parameters).toContainEqual(
      expect.objectContaining({ name: 'If-None-Exist', in: 'header' }),
    );
    const token = doc.paths['/auth/token']!.post!;
    expect(Object.keys(token.requestBody!.content)).toEqual(['application/x-www-form-urlencoded']);
  });

  it('lists per operation the answers it can give: 202 for an exchange, no errors for /health', () => {
    const statuses = (path: string, method: string) =>
      Object.keys(doc.paths[path]![method]!.responses).sort();
    expect(statuses('/health', 'get')).toEqual(['200']);
    expect(statuses('/ready', 'get')).toEqual(['200', '503']);
    expect(statuses('/fhir/$exchange', 'post')).toEqual(
      ['202', '400', '401', '403', '409', '413', '422', '429', '503'].sort(),
    );
    expect(statuses('/fhir/Patient', 'post')).toEqual(
      ['200', '201', '400', '401', '403', '409', '412', '413', '422', '429', '503'].sort(),
    );
    expect(statuses('/fhir/$request-records', 'post')).toEqual(expect.arrayContaining(['502', '504']));
    // Public routes ask no token and answer no 401/403; the token endpoint answers OAuth errors.
    expect(statuses('/fhir/metadata', 'get')).toEqual(['200', '429']);
    expect(doc.paths['/fhir/metadata']!.get!.security).toEqual([]);
    expect(doc.paths['/auth/token']!.post!.responses['401']!.$ref).toBe('#/components/responses/OAuth401');
    expect(
      doc.paths['/fhir/Patient/{id}']!.get!.responses['200']!.content!['application/fhir+json']!.schema.$ref,
    ).toBe('#/components/schemas/Patient');
    expect(doc.paths['/fhir/Patient/{id}']!.get!.security).toEqual([{ smart: ['system/Patient.r'] }]);
    // Each error a route lists is described, with OperationOutcome as its body.
    const shared = doc.components.responses as Record<
      string,
      { content: Record<string, { schema: { $ref: string } }> }
    >;
    expect(shared.E422!.content['application/fhir+json']!.schema.$ref).toBe(
      '#/components/schemas/OperationOutcome',
    );
  });

  it('documents every status a route answered to a round of ordinary and broken requests', async () => {
    const tokens = [
      undefined,
      'not-a-token',
      ...(await Promise.all(['cjg', 'privacy-officer', 'admin'].map((r) => sandboxToken(sandbox, r)))),
    ];
    const undocumented: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, operation] of Object.entries(methods)) {
        const url = path.replace('{format}', 'cjg-referral').replace(/\{\w+\}/g, 'unknown-id');
        const bodies = method === 'get' ? [undefined] : ['{}', 'not json', '{"resourceType":"Parameters"}'];
        // Routes with query parameters get malformed ones too; the others an unknown one, which they ignore.
        const takesQuery = (operation.parameters ?? []).some((p) => p.in === 'query');
        const queries = ['', takesQuery ? '?_count=x&identifier=%7C&url=nothing&code=' : '?unknown=1'];
        for (const token of tokens)
          for (const body of bodies)
            for (const query of queries) {
              const res = await fetch(`${sandbox.url}${url}${query}`, {
                method: method.toUpperCase(),
                redirect: 'manual',
                headers: {
                  accept: 'application/fhir+json',
                  ...(token ? { authorization: `Bearer ${token}` } : {}),
                  ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
                },
                body,
              });
              await res.arrayBuffer();
              if (!(String(res.status) in operation.responses))
                undocumented.push(`${method.toUpperCase()} ${path}${query} → ${res.status}`);
            }
      }
    expect([...new Set(undocumented)]).toEqual([]);
  }, 120_000);

  it('serves an OperationDefinition at every URL the CapabilityStatement names, each valid', async () => {
    const caps = await fhir<CapabilityStatement>(sandbox.url, undefined, 'GET', '/fhir/metadata');
    const rest = caps.body.rest![0]!;
    const named = [
      ...(rest.operation ?? []).map((o) => ({ code: o.name, url: o.definition })),
      ...(rest.resource ?? []).flatMap((r) =>
        (r.operation ?? []).map((o) => ({ code: o.name, url: o.definition })),
      ),
    ];
    expect(named.length).toBeGreaterThan(20);
    for (const { code, url } of named) {
      expect(url.startsWith(`${sandbox.url}/fhir/OperationDefinition/`), url).toBe(true);
      const res = await fetch(url, { headers: { accept: 'application/fhir+json' } });
      expect(res.status, url).toBe(200);
      const definition = (await res.json()) as OperationDefinition;
      expect(definition).toMatchObject({ resourceType: 'OperationDefinition', url, code });
      expect(problemsOf(definition)).toEqual([]);
    }
    const exchange = (await (
      await fetch(`${sandbox.url}/fhir/OperationDefinition/exchange`)
    ).json()) as OperationDefinition;
    expect(exchange.parameter!.filter((p) => p.use === 'in' && p.min === 1).map((p) => p.name)).toEqual([
      'recipient',
      'subject',
      'purpose',
    ]);
    expect((await fetch(`${sandbox.url}/fhir/OperationDefinition/nothing`)).status).toBe(404);
  });

  it('serves only conformance resources that @medplum/core validates, invariants (sdf-3) included', async () => {
    const served: Resource[] = [];
    for (const type of ['StructureDefinition', 'CodeSystem', 'ValueSet', 'OperationDefinition']) {
      const bundle = await fhir<Bundle>(sandbox.url, undefined, 'GET', `/fhir/${type}?_count=500`);
      expect(bundle.status).toBe(200);
      expect(bundle.body.entry!.length, type).toBe(bundle.body.total);
      served.push(...bundle.body.entry!.map((e) => e.resource!));
    }
    served.push((await fhir<Resource>(sandbox.url, undefined, 'GET', '/fhir/metadata')).body);
    served.push((await fhir<Resource>(sandbox.url, undefined, 'GET', '/fhir/Measure/municipal-report')).body);
    expect(served.filter((r) => r.resourceType === 'StructureDefinition').length).toBeGreaterThan(30);
    expect(served.flatMap(problemsOf)).toEqual([]);
  });
});
