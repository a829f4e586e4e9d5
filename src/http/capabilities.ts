// The route registry: every FHIR interaction and operation registers here as it is mounted, and the
// CapabilityStatement and the OpenAPI description are generated from it.
import { loadStructureDefinitions } from '../mappings/profiles.js';
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { OperationSpec } from './operation-spec.js';
import { oauthUris } from './smart.js';

export type Interaction =
  'read' | 'update' | 'create' | 'search-type' | 'vread' | 'delete' | 'history-instance';

export interface RouteDoc {
  method: 'get' | 'post' | 'put';
  /** Express path below the mount point, e.g. `/fhir/Patient/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Query parameters, for the OpenAPI description. */
  query?: { name: string; description: string; required?: boolean }[];
  /** Statuses the route answers beyond what the OpenAPI generator derives (openapi.ts), e.g. a redirect. */
  answers?: number[];
}

/** A registered route with what the registry knows about it (for the OpenAPI description). */
export interface RegisteredRoute extends RouteDoc {
  /** The resource type of a FHIR interaction or type operation. */
  type?: string;
  interaction?: Interaction;
  /** The OperationDefinition id of a `$` operation. */
  operation?: string;
  /** The parameters of a `$` operation. */
  spec?: OperationSpec;
}

interface TypeCapability {
  interactions: Set<Interaction>;
  searchParams: Map<string, string>;
  operations: Map<string, string>;
  profile?: string;
}

/** Where an operation's definition is served: the CapabilityStatement names this URL, and it resolves. */
export const operationDefinitionUrl = (baseUrl: string, id: string) =>
  `${baseUrl}/fhir/OperationDefinition/${id}`;

export class Capabilities {
  private readonly types = new Map<string, TypeCapability>();
  /** System operations: name → OperationDefinition id. */
  private readonly systemOperations = new Map<string, string>();
  private readonly routes: RegisteredRoute[] = [];

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
    this.routes.push({ ...route, type, interaction });
  }

  searchParam(type: string, name: string, paramType: string): void {
    this.type(type).searchParams.set(name, paramType);
  }

  /** A `$` operation below the FHIR base: on a type (and its instances), or on the system when `type` is absent. */
  operation(name: string, type: string | undefined, route: RouteDoc, spec: OperationSpec): void {
    if (type) {
      this.type(type).operations.set(name, `${type}-${name}`);
      this.routes.push({ ...route, type, operation: `${type}-${name}`, spec });
    } else {
      this.systemOperations.set(name, name);
      this.routes.push({ ...route, operation: name, spec });
    }
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
        operation: [...t.operations.entries()].map(([name, id]) => ({
          name,
          definition: operationDefinitionUrl(baseUrl, id),
        })),
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
            extension: [oauthUris(baseUrl)],
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
          operation: [...this.systemOperations.entries()].map(([name, id]) => ({
            name,
            definition: operationDefinitionUrl(baseUrl, id),
          })),
        },
      ],
    };
  }

  /** Every registered route, in the order of registration. */
  registeredRoutes(): readonly RegisteredRoute[] {
    return this.routes;
  }

  /** The search parameters registered for a type, name → FHIR search type. */
  searchParamsOf(type: string): ReadonlyMap<string, string> {
    return this.types.get(type)?.searchParams ?? new Map();
  }
}
