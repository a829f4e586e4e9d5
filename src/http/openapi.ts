// The OpenAPI 3.1 description, generated from the route registry (capabilities.ts): per operation its parameters,
// request body, the answers it can give (success and errors, per route), the SMART scope it demands, and schemas with
// FHIR resources by reference. test/openapi.test.ts validates it with @readme/openapi-parser.
import { loadStructureDefinitions } from '../mappings/profiles.js';
import type { Capabilities, RegisteredRoute } from './capabilities.js';
import { fhirResourceSchema, PLAIN_SCHEMAS, ref, sharedResponses } from './openapi-schemas.js';
import { rateLimited } from './rate-limit.js';
import { ROUTE_SCOPES } from '../auth/scopes.js';
import { scopesSupported } from './smart.js';

type Json = Record<string, unknown>;

const FHIR = 'application/fhir+json';

const json = (schema: Json, type = 'application/json') => ({ [type]: { schema } });
const html = { 'text/html': { schema: { type: 'string' } } };
const fhirBody = (schema: Json) => ({ [FHIR]: { schema }, 'application/json': { schema } });

interface Special {
  success?: Record<string, Json>;
  /** The request body; `null` for a POST that takes none. */
  body?: Json | null;
  errors?: number[];
}

/** Routes whose answers the registry cannot derive: outside FHIR, or answering another form too. */
const SPECIAL: Record<string, Special> = {
  'GET /health': { success: { '200': { description: 'Alive', content: json(ref('Status')) } } },
  'GET /ready': { success: { '200': { description: 'Ready', content: json(ref('Status')) } } },
  'POST /auth/token': {
    success: { '200': { description: 'An access token', content: json(ref('TokenResponse')) } },
    body: { required: true, content: json(ref('TokenRequest'), 'application/x-www-form-urlencoded') },
  },
  'GET /.well-known/jwks.json': {
    success: { '200': { description: "The gateway's public key set", content: json(ref('Jwks')) } },
  },
  'GET /openapi.json': { success: { '200': { description: 'This document', content: json(ref('Json')) } } },
  'GET /console/': {
    success: {
      '200': { description: 'The console page', content: { 'text/html': { schema: { type: 'string' } } } },
    },
    errors: [404],
  },
  'GET /console/login': {
    success: { '303': { description: 'To the sign-in provider (authorization code with PKCE)' } },
    errors: [404, 503],
  },
  'GET /console/callback': {
    success: {
      '200': { description: 'Signed in: a page that continues to the console', content: html },
      '303': { description: 'Back to the console' },
    },
    errors: [400, 403, 503],
  },
  'GET /console/session': {
    success: { '200': { description: 'Who is signed in, and the CSRF token', content: json(ref('Json')) } },
    errors: [401],
  },
  'POST /console/logout': { success: { '204': { description: 'Signed out' } }, body: null, errors: [403] },
  'GET /fhir/metadata': {
    success: {
      '200': { description: 'The CapabilityStatement', content: fhirBody(ref('CapabilityStatement')) },
    },
  },
  'GET /mappings': {
    success: { '200': { description: 'Formats and field tables', content: json(ref('Json')) } },
  },
  'POST /mappings/{format}/$to-fhir': {
    success: { '200': { description: 'The mapped Bundle(s)', content: fhirBody(ref('Bundle')) } },
    body: {
      required: true,
      content: { ...json(ref('Json')), 'text/csv': { schema: { type: 'string' } } },
    },
  },
  'POST /mappings/{format}/$from-fhir': {
    success: {
      '200': {
        description: 'The native form (X-Mapping-Outcome names what it cannot hold)',
        content: { ...json(ref('Json')), 'text/csv': { schema: { type: 'string' } } },
      },
    },
    body: { required: true, content: fhirBody(ref('Bundle')) },
  },
  'GET /cds-services': {
    success: { '200': { description: 'CDS Hooks discovery', content: json(ref('Json')) } },
  },
  'POST /cds-services/patient-consent-consult': {
    success: { '200': { description: 'CDS Hooks cards', content: json(ref('Json')) } },
    body: { required: true, content: json(ref('Json')) },
  },
  'POST /reports/$record-trajectory': {
    success: {
      '200': { description: 'Recorded again or withdrawn', content: fhirBody(ref('OperationOutcome')) },
      '201': { description: 'Recorded', content: fhirBody(ref('OperationOutcome')) },
    },
    body: { required: true, content: fhirBody(ref('Parameters')) },
  },
  'GET /reports/$municipal': {
    success: {
      '200': {
        description: 'The report (or a printable Dutch page with Accept: text/html)',
        content: { ...fhirBody(ref('MeasureReport')), 'text/html': { schema: { type: 'string' } } },
      },
    },
    errors: [404],
  },
  'GET /fhir/Patient/$access-report': {
    success: {
      '200': {
        description: 'The access report (or a Dutch page with Accept: text/html)',
        content: { ...fhirBody(ref('Bundle')), 'text/html': { schema: { type: 'string' } } },
      },
    },
    errors: [404],
  },
  'GET /fhir/Patient/$permissions': {
    success: {
      '200': {
        description: 'Who may receive what now (or a Dutch page with Accept: text/html)',
        content: { ...fhirBody(ref('Parameters')), 'text/html': { schema: { type: 'string' } } },
      },
    },
    errors: [403, 404],
  },
  'GET /fhir/AuditEvent/$export': {
    success: {
      '200': {
        description: 'The matching audit events, one per line or row',
        content: {
          'application/fhir+ndjson': { schema: { type: 'string' } },
          'text/csv': { schema: { type: 'string' } },
        },
      },
    },
  },
  'POST /fhir': {
    success: { '200': { description: 'The transaction-response Bundle', content: fhirBody(ref('Bundle')) } },
    body: { required: true, content: fhirBody(ref('Bundle')) },
    errors: [409, 412],
  },
  'POST /fhir/$exchange': {
    success: {
      '202': {
        description: 'Permitted: the decision, the Task tracking delivery and the Bundle as delivered',
        headers: { 'Content-Location': { description: 'The Task', schema: { type: 'string' } } },
        content: fhirBody(ref('Parameters')),
      },
    },
    errors: [409],
  },
  'POST /fhir/$request-records': { errors: [502, 504] },
  'POST /fhir/Consent/{id}/$withdraw': { errors: [404, 422] },
  'PUT /fhir/Task/{id}': { errors: [412] },
};

const keyOf = (r: RegisteredRoute, path: string) => `${r.method.toUpperCase()} ${path}`;

function parameters(r: RegisteredRoute, caps: Capabilities, path: string): Json[] {
  const out: Json[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const query = new Map<string, Json>();
  const add = (name: string, description: string, required = false) => {
    if (!query.has(name))
      query.set(name, { name, in: 'query', required, description, schema: { type: 'string' } });
  };
  for (const q of r.query ?? []) add(q.name, q.description, q.required ?? false);
  if (r.interaction === 'search-type' && r.type) {
    for (const [name, type] of caps.searchParamsOf(r.type)) add(name, `Search parameter (${type})`);
    add('_count', 'Page size (0–500, default 50; 0 answers the total alone, without entries)');
    add('_offset', 'Where the page starts');
  }
  if (r.spec && r.method === 'get') for (const p of r.spec.in) add(p.name, p.documentation, p.min === 1);
  out.push(...query.values());
  const header = (name: string, description: string) =>
    out.push({ name, in: 'header', required: false, description, schema: { type: 'string' } });
  if (r.interaction === 'create')
    header('If-None-Exist', 'Conditional create: a search among own registrations');
  if (r.interaction === 'update') header('If-Match', 'The version being updated (W/"n")');
  if (r.operation === 'exchange')
    header('Idempotency-Key', 'The same key with the same body answers the first answer');
  return out;
}

function success(r: RegisteredRoute, special: Special | undefined): Record<string, Json> {
  const declared = Object.fromEntries(
    (r.answers ?? []).filter((s) => s < 400).map((s) => [String(s), { description: `HTTP ${s}` }]),
  );
  return { ...derivedSuccess(r, special), ...declared };
}

function derivedSuccess(r: RegisteredRoute, special: Special | undefined): Record<string, Json> {
  if (special?.success) return special.success;
  const type = r.type ?? 'Resource';
  const as = (description: string, schema: Json) => ({ description, content: fhirBody(schema) });
  if (r.interaction === 'create')
    return { '201': as('Created', ref(type)), '200': as('Already registered (If-None-Exist)', ref(type)) };
  if (r.interaction === 'search-type') return { '200': as('A searchset Bundle', ref('Bundle')) };
  if (r.interaction?.startsWith('history')) return { '200': as('A history Bundle', ref('Bundle')) };
  if (r.interaction) return { '200': as('OK', ref(type)) };
  if (r.spec) return { '200': as('OK', ref(r.spec.returns)) };
  return { '200': { description: 'OK', content: json(ref('Json')) } };
}

function requestBody(r: RegisteredRoute, special: Special | undefined): Json | undefined {
  if (special?.body !== undefined) return special.body ?? undefined;
  if (r.method === 'get') return undefined;
  // A route outside FHIR reads JSON (CDS Hooks, XACML); its own documentation gives the shape.
  if (!r.operation && !r.interaction) return { required: true, content: json(ref('Json')) };
  if (r.interaction === 'create' || r.interaction === 'update')
    return { required: true, content: fhirBody(ref(r.type!)) };
  if (r.operation?.endsWith('-validate'))
    return { required: true, content: fhirBody({ oneOf: [ref(r.type!), ref('Parameters')] }) };
  if (r.spec?.in.length) return { required: true, content: fhirBody(ref('Parameters')) };
  return undefined;
}

function errors(
  r: RegisteredRoute,
  path: string,
  isPublic: boolean,
  special: Special | undefined,
  hasQuery: boolean,
): number[] {
  const key = keyOf(r, path);
  if (key === 'GET /health') return [];
  const found = new Set<number>([...(special?.errors ?? []), ...(r.answers ?? []).filter((s) => s >= 400)]);
  if (key === 'GET /ready') found.add(503);
  if (key === 'POST /auth/token') return [400, 401, 413, 429, 503];
  if (rateLimited(path)) found.add(429);
  if (!isPublic) [401, 403, 503].forEach((s) => found.add(s));
  if (/\{\w+\}/.test(path)) found.add(404);
  if (r.method !== 'get') [400, 413, 422].forEach((s) => found.add(s));
  // Query parameters may be malformed (paging, NUL), and the edge refuses those with a 400 before any route.
  // An operation refuses missing or malformed parameters (its definition in operations/ lists those it knows).
  if (hasQuery || r.operation) found.add(400);
  if (r.interaction === 'create') [409, 412].forEach((s) => found.add(s));
  if (r.interaction === 'update') [409, 412].forEach((s) => found.add(s));
  if (r.operation && r.method === 'get' && /^(CodeSystem|ValueSet)-/.test(r.operation)) found.add(404);
  return [...found].sort();
}

export function openApiDocument(caps: Capabilities, baseUrl: string, version: string): Json {
  const paths: Record<string, Record<string, unknown>> = {};
  const types = new Set(['OperationOutcome', 'Parameters', 'Bundle', 'CapabilityStatement', 'MeasureReport']);
  for (const r of caps.registeredRoutes()) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const key = keyOf(r, path);
    const special = SPECIAL[key];
    const scope = ROUTE_SCOPES.find((s) => s.route === key);
    const isPublic = !scope || scope.scope === 'none';
    if (r.type) types.add(r.type);
    if (r.spec) types.add(r.spec.returns);
    const responses: Json = { ...success(r, special) };
    const oauth = key === 'POST /auth/token';
    const params = parameters(r, caps, path);
    const hasQuery = params.some((p) => p.in === 'query');
    for (const status of errors(r, path, isPublic, special, hasQuery))
      responses[String(status)] = { $ref: `#/components/responses/${oauth ? 'OAuth' : 'E'}${status}` };
    const body = requestBody(r, special);
    paths[path] ??= {};
    paths[path][r.method] = {
      operationId: `${r.method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: r.summary,
      tags: [r.tag],
      ...(params.length ? { parameters: params } : {}),
      ...(body ? { requestBody: body } : {}),
      responses,
      security: isPublic ? [] : [{ smart: scope!.scope === 'per-entry' ? [] : [`system/${scope!.scope}`] }],
    };
  }
  const profiles = new Map<string, string[]>();
  for (const sd of loadStructureDefinitions())
    if (sd.type !== 'Extension') profiles.set(sd.type!, [...(profiles.get(sd.type!) ?? []), sd.url!]);
  const schemas: Json = { ...PLAIN_SCHEMAS };
  for (const type of [...types].filter((t) => t !== 'Resource').sort())
    schemas[type] = fhirResourceSchema(type, profiles.get(type));
  schemas.Resource = { ...fhirResourceSchema('Resource'), properties: { resourceType: { type: 'string' } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ketenpoort',
      version,
      description:
        'Consent-checked exchange gateway for coordinated family and youth care. Authentication: SMART Backend Services (private_key_jwt client assertions, ES256 or RS384); discovery at /.well-known/smart-configuration.',
    },
    servers: [{ url: baseUrl }],
    components: {
      securitySchemes: {
        smart: {
          type: 'oauth2',
          description:
            'SMART Backend Services: client_credentials with a signed client assertion (private_key_jwt)',
          flows: {
            clientCredentials: {
              tokenUrl: `${baseUrl}/auth/token`,
              scopes: Object.fromEntries(
                [
                  ...scopesSupported(),
                  ...ROUTE_SCOPES.filter((r) => /^\w+\.\w+$/.test(r.scope)).map((r) => `system/${r.scope}`),
                ].map((s) => [s, `SMART v2 system scope ${s}`]),
              ),
            },
          },
        },
      },
      schemas,
      responses: sharedResponses(),
    },
    paths,
  };
}
