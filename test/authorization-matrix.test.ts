// Who may do what: every sandbox role against every route of the OpenAPI description (and conditional create and
// update, _include, history and paging links), asserting the table in docs/security.md ("Who may do what"), and a
// test per row of the scope table ("Authentication and scopes"): the scope it names opens the route, its absence shuts it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { ROUTE_SCOPES, roleScopes, rolesOf, type ScopeAction } from '../src/auth/scopes.js';
import type { Role } from '../src/auth/access.js';
import { BSN_SYSTEM } from '../src/store/resources.js';
import { PAYLOAD_TYPES } from '../src/mappings/payload-types.js';

const INDEX_AND_DIRECTORY: readonly string[] = [
  'Patient',
  'RelatedPerson',
  'Group',
  'Consent',
  'Organization',
  'Endpoint',
];
import {
  clientAssertion,
  consentResource,
  ENGINES,
  exchangeParameters,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  parentResource,
  patientResource,
  requestToken,
  testBsn,
  testSandbox,
  type FhirResponse,
} from './helpers.js';

/** The sandbox client roles, in the order of the table's columns. */
const ROLES = [
  'cjg',
  'youth-care',
  'gi',
  'municipality',
  'veilig-thuis',
  'rvdk',
  'gp',
  'school',
  'research',
  'privacy-officer',
  'admin',
] as const;
type ClientRole = (typeof ROLES)[number];
const AGENCIES: ClientRole[] = [
  'cjg',
  'youth-care',
  'gi',
  'municipality',
  'veilig-thuis',
  'rvdk',
  'gp',
  'school',
];

/**
 * What a cell expects. 2 = 2xx; 3 = 403; 4 = 404; 0 = 400; p = let through: the role and its scope may call the
 * route, and the answer (a decision, a validation outcome, a 4xx on the sample body) comes from the operation itself,
 * never a 401, a 403 for the role or scope, a 404 or a 5xx.
 */
type Cell = '2' | '3' | '4' | '0' | 'p';

const NOAH = '999910036';
const GP = 'Organization/huisartsen-de-linde';

/** What the tests set up first: cjg's registrations, an exchange Task, an audit event and sample directory entries. */
interface World {
  url: string;
  tokens: Record<ClientRole, string>;
  childBsn: string;
  patient: string;
  patientBody: Resource;
  relatedPerson: string;
  relatedPersonBody: Resource;
  group: string;
  groupBody: Resource;
  consent: string;
  consentBody: Resource;
  withdrawable: string;
  task: string;
  taskBody: Resource;
  auditEvent: string;
  organization: Resource;
  endpoint: Resource;
  codeSystem: string;
  codeSystemUrl: string;
  valueSet: string;
  valueSetUrl: string;
  structureDefinition: string;
}

interface Sample {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** A token of its own (the token endpoint takes an assertion, not a token). */
  raw?: (w: World, role: ClientRole) => Promise<{ status: number; body: unknown }>;
}

interface Row {
  route: string;
  /** What this row tries, when a route has more than one row. */
  variant?: string;
  /** One cell per role, in the order of ROLES. */
  cells: string;
  sample: (w: World, role: ClientRole) => Sample;
  /** A further check of a 2xx answer (own-only results). */
  check?: (w: World, role: ClientRole, res: FhirResponse) => void | Promise<void>;
  /** What a row rests on beyond this change (the per-organisation person index: each its own registration). */
  pending?: string;
}

const get = (path: string): Sample => ({ method: 'GET', path });
const post = (path: string, body: unknown, headers?: Record<string, string>): Sample => ({
  method: 'POST',
  path,
  body,
  headers,
});
const put = (path: string, body: unknown): Sample => ({ method: 'PUT', path, body });

/** The ids in a searchset. */
const idsOf = (res: FhirResponse) =>
  ((res.body as unknown as Bundle).entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);

/** Only the registering organisation (and the privacy officer) finds a registration in a search. */
function ownOnly(ref: (w: World) => string) {
  return (w: World, role: ClientRole, res: FhirResponse) => {
    const seen = idsOf(res).includes(ref(w));
    expect(seen, `${role} and ${ref(w)}`).toBe(role === 'cjg' || role === 'privacy-officer');
  };
}

const fresh = () => patientResource(testBsn(), isoDateYearsAgo(9));
const decisionQuestion = (extra: NonNullable<ReturnType<typeof exchangeParameters>['parameter']> = []) => ({
  resourceType: 'Parameters',
  parameter: exchangeParameters(GP, NOAH, 'CAREMGT', { resourceType: 'Bundle', type: 'collection' })
    .parameter!.filter((p) => p.name !== 'payload')
    .concat(extra),
});
const carePlan = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      resource: {
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject: { identifier: { system: BSN_SYSTEM, value: NOAH } },
      },
    },
  ],
};

//                                             cjg yc gi mun vt rvdk gp sch | research officer admin
const PUBLIC = '2 2 2 2 2 2 2 2 2 2 2';
const INDEX_WRITE = '2 2 2 2 2 2 2 2 3 3 3';
const INDEX_WRITE_LET = 'p p p p p p p p 3 3 3';
const ADMIN_ONLY = '3 3 3 3 3 3 3 3 3 3 2';
const ADMIN_LET = '3 3 3 3 3 3 3 3 3 3 p';
const EXCHANGE_LET = 'p p p p p p p p 3 3 3';
const OFFICER_ONLY = '3 3 3 3 3 3 3 3 3 2 3';
/** cjg registered it; another agency gets a 404 (it does not exist for them), the officer reads everything. */
const CJG_READ = '2 4 4 4 4 4 4 4 3 2 3';
const CJG_WRITE = '2 4 4 4 4 4 4 4 3 3 3';

const indexTypes = [
  ['Patient', (w: World) => w.patient, (w: World) => w.patientBody, `identifier=${BSN_SYSTEM}|`],
  ['RelatedPerson', (w: World) => w.relatedPerson, (w: World) => w.relatedPersonBody, 'patient=Patient/'],
  ['Group', (w: World) => w.group, (w: World) => w.groupBody, 'member=Patient/'],
  ['Consent', (w: World) => w.consent, (w: World) => w.consentBody, 'patient=Patient/'],
] as const;

/** The table. docs/security.md ("Who may do what") is this table in prose columns. */
const MATRIX: Row[] = [
  // Public: no token needed (the matrix sends one anyway; it changes nothing).
  { route: 'GET /health', cells: PUBLIC, sample: () => get('/health') },
  { route: 'GET /ready', cells: PUBLIC, sample: () => get('/ready') },
  {
    route: 'POST /auth/token',
    variant: "the client's own signed assertion",
    cells: PUBLIC,
    sample: () => ({
      method: 'POST',
      path: '/auth/token',
      raw: async (w, role) => {
        const res = await requestToken(
          w.url,
          await clientAssertion(`${w.url}/auth/token`, `sandbox-${role}`),
        );
        return { status: res.status, body: await res.json() };
      },
    }),
  },
  { route: 'GET /.well-known/jwks.json', cells: PUBLIC, sample: () => get('/.well-known/jwks.json') },
  {
    route: 'GET /.well-known/smart-configuration',
    cells: PUBLIC,
    sample: () => get('/.well-known/smart-configuration'),
  },
  {
    route: 'GET /fhir/.well-known/smart-configuration',
    cells: PUBLIC,
    sample: () => get('/fhir/.well-known/smart-configuration'),
  },
  { route: 'GET /mappings', cells: PUBLIC, sample: () => get('/mappings') },
  { route: 'GET /fhir/metadata', cells: PUBLIC, sample: () => get('/fhir/metadata') },
  { route: 'GET /openapi.json', cells: PUBLIC, sample: () => get('/openapi.json') },
  { route: 'GET /console/', cells: PUBLIC, sample: () => get('/console/') },
  {
    route: 'GET /console/login',
    variant: 'the redirect to the provider, not followed (it needs a browser with cookies)',
    cells: 'p p p p p p p p p p p',
    sample: () => ({
      method: 'GET',
      path: '/console/login',
      raw: async (w) => {
        const res = await fetch(`${w.url}/console/login`, { redirect: 'manual' });
        expect(res.headers.get('location')).toMatch(/code_challenge_method=S256/);
        return { status: res.status, body: {}, headers: res.headers };
      },
    }),
  },
  {
    route: 'GET /console/callback',
    variant: 'without a sign-in under way',
    cells: '0 0 0 0 0 0 0 0 0 0 0',
    sample: () => get('/console/callback?code=x&state=y'),
  },
  { route: 'GET /console/session', cells: PUBLIC, sample: () => get('/console/session') },
  { route: 'POST /console/logout', cells: PUBLIC, sample: () => post('/console/logout', {}) },
  { route: 'GET /cds-services', cells: PUBLIC, sample: () => get('/cds-services') },
  { route: 'GET /fhir/CodeSystem', cells: PUBLIC, sample: () => get('/fhir/CodeSystem') },
  {
    route: 'GET /fhir/OperationDefinition',
    cells: PUBLIC,
    sample: () => get('/fhir/OperationDefinition'),
  },
  {
    route: 'GET /fhir/OperationDefinition/{id}',
    cells: PUBLIC,
    sample: () => get('/fhir/OperationDefinition/exchange'),
  },
  {
    route: 'GET /fhir/CodeSystem/{id}',
    cells: PUBLIC,
    sample: (w) => get(`/fhir/CodeSystem/${w.codeSystem}`),
  },
  {
    route: 'GET /fhir/CodeSystem/$validate-code',
    cells: PUBLIC,
    sample: (w) => get(`/fhir/CodeSystem/$validate-code?url=${w.codeSystemUrl}&code=y`),
  },
  { route: 'GET /fhir/ValueSet', cells: PUBLIC, sample: () => get('/fhir/ValueSet') },
  { route: 'GET /fhir/ValueSet/{id}', cells: PUBLIC, sample: (w) => get(`/fhir/ValueSet/${w.valueSet}`) },
  {
    route: 'GET /fhir/ValueSet/$expand',
    cells: PUBLIC,
    sample: (w) => get(`/fhir/ValueSet/$expand?url=${w.valueSetUrl}`),
  },
  {
    route: 'GET /fhir/ValueSet/$validate-code',
    cells: PUBLIC,
    sample: (w) => get(`/fhir/ValueSet/$validate-code?url=${w.valueSetUrl}&code=y`),
  },
  { route: 'GET /fhir/StructureDefinition', cells: PUBLIC, sample: () => get('/fhir/StructureDefinition') },
  {
    route: 'GET /fhir/StructureDefinition/{id}',
    cells: PUBLIC,
    sample: (w) => get(`/fhir/StructureDefinition/${w.structureDefinition}`),
  },
  { route: 'GET /fhir/Measure/{id}', cells: PUBLIC, sample: () => get('/fhir/Measure/municipal-report') },

  // Validation and mappings: nothing stored; asked as the create or the exchange they prepare.
  ...(['Patient', 'RelatedPerson', 'Group', 'Consent'] as const).map((type) => ({
    route: `POST /fhir/${type}/$validate`,
    cells: INDEX_WRITE_LET,
    sample: () => post(`/fhir/${type}/$validate`, { resourceType: type }),
  })),
  ...(['Organization', 'Endpoint'] as const).map((type) => ({
    route: `POST /fhir/${type}/$validate`,
    cells: ADMIN_LET,
    sample: () => post(`/fhir/${type}/$validate`, { resourceType: type }),
  })),
  // A payload Bundle and every other type a payload may carry (src/mappings/payload-types.ts).
  ...['Bundle', ...PAYLOAD_TYPES.filter((t) => !INDEX_AND_DIRECTORY.includes(t))].map((type) => ({
    route: `POST /fhir/${type}/$validate`,
    cells: EXCHANGE_LET,
    sample: () => post(`/fhir/${type}/$validate`, { resourceType: type }),
  })),
  {
    route: 'POST /mappings/{format}/$to-fhir',
    cells: EXCHANGE_LET,
    sample: () => post('/mappings/cjg-referral/$to-fhir', {}),
  },
  {
    route: 'POST /mappings/{format}/$from-fhir',
    cells: EXCHANGE_LET,
    sample: () => post('/mappings/cjg-referral/$from-fhir', carePlan),
  },

  // Exchanges and decisions: the agencies ask; the answer is the consent decision's.
  {
    route: 'POST /fhir/$exchange',
    cells: EXCHANGE_LET,
    sample: () => post('/fhir/$exchange', exchangeParameters(GP, NOAH, 'CAREMGT', carePlan as Bundle)),
  },
  {
    route: 'POST /fhir/$request-records',
    cells: EXCHANGE_LET,
    sample: () => post('/fhir/$request-records', decisionQuestion()),
  },
  {
    route: 'POST /fhir/$consent-decision',
    variant: 'a decision now',
    cells: EXCHANGE_LET,
    sample: () => post('/fhir/$consent-decision', decisionQuestion()),
  },
  {
    route: 'POST /fhir/$consent-decision',
    variant: 'a past decision replayed (at)',
    cells: '3 3 3 3 3 3 3 3 3 p 3',
    sample: () =>
      post(
        '/fhir/$consent-decision',
        decisionQuestion([{ name: 'at', valueDateTime: new Date().toISOString() }]),
      ),
  },
  {
    route: 'POST /cds-services/patient-consent-consult',
    cells: EXCHANGE_LET,
    sample: () =>
      post('/cds-services/patient-consent-consult', {
        hook: 'patient-consent-consult',
        hookInstance: 'matrix',
        context: {
          patientId: [{ system: BSN_SYSTEM, value: NOAH }],
          scope: 'patient-privacy',
          purposeOfUse: 'CAREMGT',
          actor: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000107' }],
        },
      }),
  },
  {
    route: 'POST /cds-services/bundle-security-label',
    cells: '2 2 2 2 2 2 2 2 3 3 3',
    sample: () =>
      post('/cds-services/bundle-security-label', {
        hook: 'bundle-security-label',
        hookInstance: 'matrix',
        context: { bundle: carePlan },
      }),
  },
  {
    route: 'POST /xacml',
    cells: EXCHANGE_LET,
    sample: () =>
      post('/xacml', {
        Request: {
          AccessSubject: [
            {
              Attribute: [
                {
                  AttributeId: 'actor',
                  Value: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000107' }],
                },
              ],
            },
          ],
          Action: [{ Attribute: [{ AttributeId: 'purposeOfUse', Value: 'CAREMGT' }] }],
          Resource: [
            { Attribute: [{ AttributeId: 'patientId', Value: [{ system: BSN_SYSTEM, value: NOAH }] }] },
          ],
        },
      }),
  },
  {
    route: 'POST /fhir/Bundle/$security-label',
    cells: '2 2 2 2 2 2 2 2 3 3 3',
    sample: () => post('/fhir/Bundle/$security-label', carePlan),
  },

  // Delivery tracking: the two organisations of an exchange and the privacy officer.
  {
    route: 'GET /fhir/Task/{id}',
    variant: "cjg's exchange to the GP",
    cells: '2 4 4 4 4 4 2 4 4 2 3',
    sample: (w) => get(`/fhir/Task/${w.task}`),
  },
  {
    route: 'PUT /fhir/Task/{id}',
    variant: 'an exchange Task (kept by the gateway)',
    cells: 'p 4 4 4 4 4 p 4 3 p 3',
    sample: (w) => put(`/fhir/Task/${w.task}`, w.taskBody),
  },
  {
    route: 'GET /fhir/Task',
    cells: '2 2 2 2 2 2 2 2 2 2 3',
    sample: () => get('/fhir/Task?code=exchange&_count=500'),
    check: (w, role, res) =>
      expect(idsOf(res).includes(`Task/${w.task}`), role).toBe(
        ['cjg', 'gp', 'privacy-officer'].includes(role),
      ),
  },
  {
    route: 'GET /fhir/Communication',
    cells: '2 2 2 2 2 2 2 2 2 2 3',
    sample: () => get('/fhir/Communication'),
  },

  // Oversight: the privacy officer alone.
  { route: 'GET /fhir/AuditEvent', cells: OFFICER_ONLY, sample: () => get('/fhir/AuditEvent?_count=1') },
  {
    route: 'GET /fhir/AuditEvent/{id}',
    cells: OFFICER_ONLY,
    sample: (w) => get(`/fhir/AuditEvent/${w.auditEvent}`),
  },
  {
    route: 'GET /fhir/AuditEvent/$verify',
    cells: OFFICER_ONLY,
    sample: () => get('/fhir/AuditEvent/$verify'),
  },
  {
    route: 'GET /fhir/AuditEvent/$export',
    cells: OFFICER_ONLY,
    sample: () => get('/fhir/AuditEvent/$export?_format=ndjson&date=ge2000-01-01'),
  },
  {
    route: 'GET /fhir/Patient/$access-report',
    cells: OFFICER_ONLY,
    sample: () => get(`/fhir/Patient/$access-report?identifier=${BSN_SYSTEM}|${NOAH}`),
  },
  {
    // The agency that arranged the person's consents (cjg), the officer; another agency does not know the person.
    route: 'GET /fhir/Patient/$permissions',
    cells: CJG_READ,
    sample: (w) => get(`/fhir/Patient/$permissions?identifier=${BSN_SYSTEM}|${w.childBsn}`),
  },

  // Reports: agencies that coordinate care record; the municipality (its own), research and the officer read.
  {
    route: 'POST /reports/$record-trajectory',
    cells: 'p p p 3 3 3 3 3 3 3 3',
    sample: () => post('/reports/$record-trajectory', { resourceType: 'Parameters', parameter: [] }),
  },
  {
    route: 'GET /reports/$municipal',
    variant: "Venlo's (the sandbox municipality's own)",
    cells: '3 3 3 2 3 3 3 3 2 2 3',
    sample: () => get('/reports/$municipal?period=2005/2007&municipality=0983'),
  },

  // The person index: each organisation its own registrations; the officer reads them all and changes none.
  ...indexTypes.flatMap(([type, id, body, search]): Row[] => [
    {
      route: `POST /fhir/${type}`,
      variant: type === 'Patient' ? 'a new person' : undefined,
      cells: type === 'Patient' ? INDEX_WRITE : INDEX_WRITE_LET,
      sample: () => post(`/fhir/${type}`, type === 'Patient' ? fresh() : { resourceType: type }),
    },
    {
      route: `GET /fhir/${type}/{id}`,
      variant: "cjg's registration",
      cells: CJG_READ,
      sample: (w) => get(`/fhir/${type}/${id(w)}`),
    },
    {
      route: `GET /fhir/${type}`,
      variant: "searching for cjg's registration",
      cells: '2 2 2 2 2 2 2 2 3 2 3',
      sample: (w) => get(`/fhir/${type}?${search}${type === 'Patient' ? w.childBsn : w.patient}`),
      check: ownOnly((w) => `${type}/${id(w)}`),
    },
    {
      route: `PUT /fhir/${type}/{id}`,
      variant: "cjg's registration",
      cells: CJG_WRITE,
      sample: (w) => put(`/fhir/${type}/${id(w)}`, body(w)),
    },
  ]),
  {
    route: 'POST /fhir/Consent/{id}/$withdraw',
    variant: "cjg's consent",
    cells: CJG_WRITE,
    sample: (w) => post(`/fhir/Consent/${w.withdrawable}/$withdraw`, {}),
  },
  {
    route: 'GET /fhir/Consent/{id}/_history',
    variant: "cjg's consent: its registering organisation and the officer",
    cells: CJG_READ,
    sample: (w) => get(`/fhir/Consent/${w.consent}/_history`),
  },
  {
    route: 'POST /fhir',
    variant: 'a transaction creating a new person',
    cells: INDEX_WRITE,
    sample: () =>
      post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: fresh(), request: { method: 'POST', url: 'Patient' } }],
      }),
  },
  {
    route: 'POST /fhir',
    variant: "a transaction updating cjg's registration",
    cells: CJG_WRITE,
    sample: (w) =>
      post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: w.patientBody, request: { method: 'PUT', url: `Patient/${w.patient}` } }],
      }),
  },

  // The directory: everyone reads, the administrator keeps it.
  ...(['Organization', 'Endpoint'] as const).flatMap((type): Row[] => {
    const sample = (w: World) => (type === 'Organization' ? w.organization : w.endpoint);
    return [
      {
        route: `POST /fhir/${type}`,
        cells: type === 'Organization' ? ADMIN_ONLY : ADMIN_LET,
        sample: (w) => {
          const { id: _id, meta: _meta, ...rest } = sample(w) as Resource & { identifier?: unknown };
          return post(`/fhir/${type}`, {
            ...rest,
            identifier: [
              { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: `9${Date.now() % 10_000_000}` },
            ],
          });
        },
      },
      { route: `GET /fhir/${type}`, cells: PUBLIC, sample: () => get(`/fhir/${type}?_count=2`) },
      { route: `GET /fhir/${type}/{id}`, cells: PUBLIC, sample: (w) => get(`/fhir/${type}/${sample(w).id}`) },
      {
        route: `PUT /fhir/${type}/{id}`,
        cells: ADMIN_ONLY,
        sample: (w) => put(`/fhir/${type}/${sample(w).id}`, sample(w)),
      },
    ];
  }),

  // Beyond the OpenAPI routes: conditional create and update, _include, history, paging links.
  {
    route: 'POST /fhir/Patient',
    variant: "a conditional create naming the BSN of cjg's registration",
    cells: INDEX_WRITE,
    pending:
      'each organisation its own registration: a conditional create never returns or grants another organisation’s record',
    sample: (w) =>
      post('/fhir/Patient', patientResource(w.childBsn, isoDateYearsAgo(9)), {
        'if-none-exist': `identifier=${BSN_SYSTEM}|${w.childBsn}`,
      }),
    check: async (w, role, res) => {
      if (role === 'cjg') return;
      expect(res.body.id, role).not.toBe(w.patient);
      expect((await fhir(w.url, w.tokens[role], 'GET', `/fhir/Patient/${w.patient}`)).status, role).toBe(404);
    },
  },
  {
    route: 'POST /fhir/RelatedPerson',
    variant: "a conditional create naming the BSN of the parent in cjg's registration",
    cells: INDEX_WRITE,
    pending:
      'each organisation its own registration: a conditional create never returns or grants another organisation’s record',
    sample: () => ({
      method: 'POST',
      path: '/fhir/RelatedPerson',
      // The organisation's own registration of the child first, then the parent by BSN.
      raw: async (w, role) => {
        const child = await fhir<Resource>(
          w.url,
          w.tokens[role],
          'POST',
          '/fhir/Patient',
          patientResource(w.childBsn, isoDateYearsAgo(9)),
          { 'if-none-exist': `identifier=${BSN_SYSTEM}|${w.childBsn}` },
        );
        if (child.status >= 300) return child;
        const parentBsn = (w.relatedPersonBody as { identifier: { value: string }[] }).identifier[0]!.value;
        return fhir(
          w.url,
          w.tokens[role],
          'POST',
          '/fhir/RelatedPerson',
          parentResource(`Patient/${child.body.id}`, parentBsn, true),
          { 'if-none-exist': `identifier=${BSN_SYSTEM}|${parentBsn}` },
        );
      },
    }),
    check: async (w, role, res) => {
      if (role === 'cjg') return;
      expect(res.body.id, role).not.toBe(w.relatedPerson);
      const theirs = await fhir(w.url, w.tokens[role], 'GET', `/fhir/RelatedPerson/${w.relatedPerson}`);
      expect(theirs.status, role).toBe(404);
    },
  },
  {
    route: 'PUT /fhir/Patient?identifier=…',
    variant: 'a conditional update (not supported)',
    cells: '4 4 4 4 4 4 4 4 4 4 4',
    sample: (w) => put(`/fhir/Patient?identifier=${BSN_SYSTEM}|${w.childBsn}`, w.patientBody),
  },
  {
    route: 'GET /fhir/RelatedPerson?_include=…',
    variant: '_include (not supported)',
    cells: '0 0 0 0 0 0 0 0 3 0 3',
    sample: (w) => get(`/fhir/RelatedPerson?patient=${w.patient}&_include=RelatedPerson:patient`),
  },
  {
    route: 'GET /fhir/Patient/{id}/_history',
    variant: 'history (not supported)',
    cells: '4 4 4 4 4 4 4 4 4 4 4',
    sample: (w) => get(`/fhir/Patient/${w.patient}/_history`),
  },
  {
    route: 'GET /fhir/Patient/{id}/_history/{vid}',
    variant: 'a version (not supported)',
    cells: '4 4 4 4 4 4 4 4 4 4 4',
    sample: (w) => get(`/fhir/Patient/${w.patient}/_history/1`),
  },
];

/** The next-page link cjg got for its own registrations, followed by every role. */
let cjgNextLink = '';
let cjgPatients = new Set<string>();
MATRIX.push({
  route: 'GET next link',
  variant: 'the next page cjg was given, followed by each role',
  cells: '2 2 2 2 2 2 2 2 3 2 3',
  sample: () => get(cjgNextLink.slice(cjgNextLink.indexOf('/fhir/'))),
  check: (_w, role, res) => {
    if (role === 'cjg' || role === 'privacy-officer') return;
    for (const id of idsOf(res)) expect(cjgPatients.has(id), `${role} sees ${id}`).toBe(false);
  },
});

function cellsOf(row: Row): Record<ClientRole, Cell> {
  const cells = row.cells.split(' ');
  if (cells.length !== ROLES.length) throw new Error(`${row.route}: ${cells.length} cells`);
  return Object.fromEntries(ROLES.map((r, i) => [r, cells[i] as Cell])) as Record<ClientRole, Cell>;
}

const refusedForRoleOrScope = (res: { status: number; body: unknown }) =>
  res.status === 403 &&
  ((res.body as OperationOutcome).issue ?? []).some((i) =>
    i.details?.coding?.some((c) => c.code === 'role-not-allowed' || c.code === 'insufficient-scope'),
  );

function meets(cell: Cell, res: { status: number; body: unknown }): boolean {
  if (res.status >= 500) return false;
  switch (cell) {
    case '2':
      return res.status >= 200 && res.status < 300;
    case '3':
      return res.status === 403;
    case '4':
      return res.status === 404;
    case '0':
      return res.status === 400;
    case 'p':
      return res.status !== 401 && res.status !== 404 && !refusedForRoleOrScope(res);
  }
}

/** Sends a sample request; a body that is not JSON (a page, an NDJSON export) is kept as text. */
async function send(w: World, role: ClientRole, sample: Sample, token = w.tokens[role]) {
  if (sample.raw) return sample.raw(w, role);
  const res = await fetch(`${w.url}${sample.path}`, {
    method: sample.method,
    headers: {
      accept: 'application/fhir+json',
      authorization: `Bearer ${token}`,
      ...(sample.body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
      ...sample.headers,
    },
    body: sample.body === undefined ? undefined : JSON.stringify(sample.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as Record<string, unknown>, headers: res.headers };
}

async function tokenWith(url: string, role: ClientRole, scope: string): Promise<string> {
  const res = await fetch(`${url}/sandbox/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: `sandbox-${role}`, scope }),
  });
  if (res.status !== 200) throw new Error(`token for ${role} with ${scope}: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function setUp(url: string): Promise<World> {
  const tokens = {} as Record<ClientRole, string>;
  for (const role of ROLES) tokens[role] = await tokenWith(url, role, 'system/*.*');
  const as = (role: ClientRole, method: string, path: string, body?: unknown) =>
    fhir<Resource & { id: string }>(url, tokens[role], method, path, body);
  const created = async (path: string, body: unknown) => {
    const res = await as('cjg', 'POST', path, body);
    if (res.status !== 201) throw new Error(`set-up ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const childBsn = testBsn();
  const patient = await created('/fhir/Patient', patientResource(childBsn, isoDateYearsAgo(9)));
  // A second registration, so that cjg's search has a next page.
  await created('/fhir/Patient', fresh());
  const relatedPerson = await created(
    '/fhir/RelatedPerson',
    parentResource(`Patient/${patient.id}`, testBsn(), true),
  );
  const group = await created('/fhir/Group', {
    resourceType: 'Group',
    type: 'person',
    actual: true,
    member: [{ entity: { reference: `Patient/${patient.id}` } }],
  });
  const consentOf = () =>
    consentResource(`Patient/${patient.id}`, [`RelatedPerson/${relatedPerson.id}`], [GP], ['CAREMGT']);
  const consent = await created('/fhir/Consent', consentOf());
  const withdrawable = await created('/fhir/Consent', consentOf());
  const exchange = await as(
    'cjg',
    'POST',
    '/fhir/$exchange',
    exchangeParameters(GP, NOAH, 'CAREMGT', carePlan as Bundle),
  );
  const taskRef = JSON.stringify(exchange.body).match(/Task\/([\w-]+)/)?.[1];
  if (exchange.status !== 202 || !taskRef) throw new Error(`set-up exchange: ${exchange.status}`);
  const task = await as('cjg', 'GET', `/fhir/Task/${taskRef}`);
  const audit = await as('privacy-officer', 'GET', '/fhir/AuditEvent?_count=1');
  const first = (res: FhirResponse<Resource>) => (res.body as Bundle).entry![0]!.resource!;
  const organization = first(await as('admin', 'GET', '/fhir/Organization?_count=1'));
  const endpoint = first(await as('admin', 'GET', '/fhir/Endpoint?_count=1'));
  const codeSystem = first(await as('admin', 'GET', '/fhir/CodeSystem?_count=1')) as Resource & {
    url: string;
  };
  const valueSet = first(await as('admin', 'GET', '/fhir/ValueSet?_count=1')) as Resource & { url: string };
  const structureDefinition = first(await as('admin', 'GET', '/fhir/StructureDefinition?_count=1')).id!;
  return {
    url,
    tokens,
    childBsn,
    patient: patient.id,
    patientBody: patient,
    relatedPerson: relatedPerson.id,
    relatedPersonBody: relatedPerson,
    group: group.id,
    groupBody: group,
    consent: consent.id,
    consentBody: consent,
    withdrawable: withdrawable.id,
    task: task.body.id,
    taskBody: task.body,
    auditEvent: first(audit).id!,
    organization,
    endpoint,
    codeSystem: codeSystem.id!,
    codeSystemUrl: encodeURIComponent(codeSystem.url),
    valueSet: valueSet.id!,
    valueSetUrl: encodeURIComponent(valueSet.url),
    structureDefinition,
  };
}

const label = (row: Row) => `${row.route}${row.variant ? ` (${row.variant})` : ''}`;

describe.each(ENGINES)('who may do what, on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let w: World;
  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    sandbox = await testSandbox({}, database.db);
    w = await setUp(sandbox.url);
  }, 120_000);
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('lists every route of the OpenAPI description in the table and in the scope table', async () => {
    const api = (await (await fetch(`${sandbox.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(api.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThan(60);
    const inMatrix = new Set(MATRIX.map((r) => r.route));
    expect(routes.filter((r) => !inMatrix.has(r))).toEqual([]);
    expect(routes.filter((r) => !ROUTE_SCOPES.some((s) => s.route === r))).toEqual([]);
    expect(ROUTE_SCOPES.map((s) => s.route).filter((r) => !routes.includes(r))).toEqual([]);
  });

  for (const row of MATRIX) {
    const run = async () => {
      if (row.route === 'GET next link') {
        const first = await fhir<Bundle>(w.url, w.tokens.cjg, 'GET', '/fhir/Patient?_count=1');
        cjgNextLink = first.body.link?.find((l) => l.relation === 'next')?.url ?? '';
        expect(cjgNextLink.startsWith(`${w.url}/fhir/Patient?`)).toBe(true);
        const all = await fhir(w.url, w.tokens.cjg, 'GET', '/fhir/Patient?_count=500');
        cjgPatients = new Set(idsOf(all));
      }
      const cells = cellsOf(row);
      const failures: string[] = [];
      for (const role of ROLES) {
        const res = await send(w, role, row.sample(w, role));
        if (!meets(cells[role], res)) {
          failures.push(
            `${role}: expected ${cells[role]}, got ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`,
          );
          continue;
        }
        if (row.check && res.status < 300) {
          try {
            await row.check(w, role, res as FhirResponse);
          } catch (err) {
            failures.push(`${role}: ${(err as Error).message}`);
          }
        }
      }
      expect(failures).toEqual([]);
    };
    // A row that rests on the per-organisation person index says so in its name: it fails without that change.
    it(row.pending ? `${label(row)} — rests on: ${row.pending}` : label(row), run, 60_000);
  }

  it('lets research reach no person: every person-index row and every refusal by organisation answers research 403 or 404', () => {
    const personRows = MATRIX.filter((r) =>
      /\/fhir\/(Patient|RelatedPerson|Group|Consent)|AuditEvent|\$access-report|\$request-records|POST \/fhir$/.test(
        r.route,
      ),
    );
    expect(personRows.length).toBeGreaterThan(20);
    for (const row of personRows) expect(['3', '4', '0'], label(row)).toContain(cellsOf(row).research);
  });

  it("lets no agency read or change another's registration: every cjg-registration row answers the others 404", () => {
    const rows = MATRIX.filter((r) => r.variant?.startsWith("cjg's"));
    expect(rows.length).toBeGreaterThan(8);
    for (const row of rows) {
      const cells = cellsOf(row);
      for (const role of AGENCIES.filter((r) => r !== 'cjg' && r !== 'gp'))
        expect(cells[role], `${label(row)} for ${role}`).toMatch(/[34]/);
    }
  });
});

describe.each(ENGINES)('every row of the scope table, on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let w: World;
  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    sandbox = await testSandbox({}, database.db);
    w = await setUp(sandbox.url);
  }, 120_000);
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  const scoped = ROUTE_SCOPES.filter((s) => /^\w+\.[cruds]+$/.test(s.scope));
  for (const entry of scoped) {
    it(`${entry.route} opens with system/${entry.scope} and shuts without it`, async () => {
      const role = rolesOf(entry).find((r): r is ClientRole => (ROLES as readonly Role[]).includes(r))!;
      const row = MATRIX.find((r) => r.route === entry.route && !r.pending)!;
      const sample = row.sample(w, role);
      const [type, actions] = entry.scope.split('.') as [string, string];
      // Everything the role may have, except the actions this route needs on this type.
      const rest = [...roleScopes(role)]
        .map(([t, have]) => {
          const left = (['c', 'r', 'u', 'd', 's'] as ScopeAction[]).filter(
            (a) => have.has(a) && !(t === type && actions.includes(a)),
          );
          return left.length ? `system/${t}.${left.join('')}` : '';
        })
        .filter(Boolean)
        .join(' ');
      const without = await send(w, role, sample, await tokenWith(w.url, role, rest));
      expect(without.status, `${role} without ${entry.scope}`).toBe(403);
      expect(JSON.stringify(without.body)).toContain('insufficient-scope');
      const only = await send(w, role, sample, await tokenWith(w.url, role, `system/${entry.scope}`));
      expect(
        refusedForRoleOrScope(only),
        `${role} with only ${entry.scope}: ${JSON.stringify(only.body)}`,
      ).toBe(false);
      expect(only.status).toBeLessThan(500);
    });
  }
});
