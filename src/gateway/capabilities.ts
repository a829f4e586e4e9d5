// The route registry: every FHIR interaction and operation registers here as it is mounted, and the
// CapabilityStatement and the OpenAPI description are generated from it.
import { loadStructureDefinitions } from '../mappings/profiles.js';
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';

export type Interaction = 'read' | 'update' | 'create' | 'search-type' | 'vread' | 'delete';

export interface RouteDoc {
  method: 'get' | 'post' | 'put';
  /** Express path below the mount point, e.g. `/fhir/Patient/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Query parameters, for the OpenAPI description. */
  query?: { name: string; description: string; required?: boolean }[];
}

interface TypeCapability {
  interactions: Set<Interaction>;
  searchParams: Map<string, string>;
  operations: Map<string, string>;
  profile?: string;
}

const OPERATION_BASE = 'https://ketenpoort.nl/fhir/OperationDefinition/';

export class Capabilities {
  private readonly types = new Map<string, TypeCapability>();
  private readonly systemOperations = new Map<string, string>();
  private readonly routes: RouteDoc[] = [];

  private type(name: string): TypeCapability {
    let t = this.types.get(name);
    if (!t) {
      t = { interactions: new Set(), searchParams: new Map(), operations: new Map() };
      this.types.set(name, t);
    }
    return t;
  }

  interaction(type: string, interaction: Interaction, route: RouteDoc): void {
    this.type(type).interactions.add(interaction);
    this.routes.push(route);
  }

  searchParam(type: string, name: string, paramType: string): void {
    this.type(type).searchParams.set(name, paramType);
  }

  typeOperation(type: string, name: string, route: RouteDoc): void {
    this.type(type).operations.set(name, `${OPERATION_BASE}${type}-${name}`);
    this.routes.push(route);
  }

  systemOperation(name: string, route: RouteDoc): void {
    this.systemOperations.set(name, `${OPERATION_BASE}${name}`);
    this.routes.push(route);
  }

  /** A non-FHIR route (auth, health, mappings, sandbox): only in the OpenAPI description. */
  route(route: RouteDoc): void {
    this.routes.push(route);
  }

  capabilityStatement(baseUrl: string, version: string): CapabilityStatement {
    // The Ketenpoort profiles each resource type is checked against (profiles/src/profiles.json).
    const supported = new Map<string, string[]>();
    for (const sd of loadStructureDefinitions())
      if (sd.type !== 'Extension') supported.set(sd.type!, [...(supported.get(sd.type!) ?? []), sd.url!]);
    const resources: CapabilityStatementRestResource[] = [...this.types.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, t]) => ({
        type: type as CapabilityStatementRestResource['type'],
        interaction: [...t.interactions].sort().map((code) => ({ code })),
        searchParam: [...t.searchParams.entries()].map(([name, paramType]) => ({
          name,
          type: paramType as 'token',
        })),
        operation: [...t.operations.entries()].map(([name, definition]) => ({ name, definition })),
        ...(supported.get(type) ? { supportedProfile: supported.get(type) } : {}),
        conditionalCreate: t.interactions.has('create') ? true : undefined,
        updateCreate: false,
        versioning: 'versioned-update',
      }));
    return {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: new Date().toISOString(),
      kind: 'instance',
      name: 'Ketenpoort',
      title: 'Ketenpoort consent-checked exchange gateway',
      software: { name: 'Ketenpoort', version },
      implementation: { description: 'Ketenpoort gateway', url: `${baseUrl}/fhir` },
      fhirVersion: '4.0.1',
      format: ['application/fhir+json', 'json'],
      rest: [
        {
          mode: 'server',
          security: {
            service: [
              {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                    code: 'SMART-on-FHIR',
                  },
                ],
              },
            ],
            description: `SMART Backend Services: POST ${baseUrl}/auth/token with a signed client assertion (ES256 or RS384).`,
          },
          documentation: [
            `Also served outside the FHIR base (details in ${baseUrl}/openapi.json):`,
            ...this.routes
              .filter((r) => !r.path.startsWith('/fhir'))
              .map((r) => `- \`${r.method.toUpperCase()} ${r.path}\`: ${r.summary}`),
          ].join('\n'),
          resource: resources,
          interaction: [{ code: 'transaction' }],
          operation: [...this.systemOperations.entries()].map(([name, definition]) => ({ name, definition })),
        },
      ],
    };
  }

  openApi(baseUrl: string, version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.path.replace(/:(\w+)/g, '{$1}');
      const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      paths[path] ??= {};
      paths[path][r.method] = {
        summary: r.summary,
        tags: [r.tag],
        parameters:
          params.length || r.query?.length
            ? [
                ...params,
                ...(r.query ?? []).map((q) => ({
                  name: q.name,
                  in: 'query',
                  required: q.required ?? false,
                  description: q.description,
                  schema: { type: 'string' },
                })),
              ]
            : undefined,
        responses: {
          '200': { description: 'OK' },
          '400': { description: 'Bad request (OperationOutcome)' },
          '401': { description: 'No or invalid token (OperationOutcome)' },
          '403': { description: 'Not allowed or denied (OperationOutcome)' },
          '422': { description: 'Violates a profile or business rule (OperationOutcome)' },
          '503': { description: 'Storage unavailable (OperationOutcome)' },
        },
      };
    }
    return {
      openapi: '3.0.3',
      info: {
        title: 'Ketenpoort',
        version,
        description: 'Consent-checked exchange gateway for coordinated family and youth care.',
      },
      servers: [{ url: baseUrl }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
      paths,
    };
  }
}
