// Hostile requests for the fuzz suite: every route of the OpenAPI description, with bodies that are valid seeds
// mutated at a random element (null, wrong JSON types, deep nesting, U+0000, huge numbers), arbitrary JSON, raw
// garbage, hostile ids, query values and headers, and the role that sends it.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { BSN_SYSTEM } from '../src/store/resources.js';
import {
  carePlanPayload,
  consentResource,
  exchangeParameters,
  legalBasisParameters,
  parentResource,
  patientResource,
} from './helpers.js';

export interface Route {
  method: string;
  path: string;
}

export interface HostileRequest {
  method: string;
  /** Path and query, percent-encoded as sent (hostile encodings such as %00 and %ff included). */
  url: string;
  role: string;
  headers: Record<string, string>;
  body?: string;
}

const fixture = (file: string): unknown => JSON.parse(readFileSync(`fixtures/${file}`, 'utf8'));
const text = (file: string): string => readFileSync(`fixtures/${file}`, 'utf8');

export const nested = (depth: number): string => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;

/** The valid body each kind of route takes, the starting point of every mutation. */
function seeds(ids: Record<string, string>): Record<string, unknown[]> {
  const child = `Patient/${ids.Patient ?? 'x'}`;
  const payload = carePlanPayload('999910036', 'Plan');
  const legal = legalBasisParameters('wmo-5.2.6-veilig-thuis', 'Signalen; meldcode stap 5.', {
    'meldcode-followed': true,
  });
  const parameters = [
    exchangeParameters('Organization/huisartsen-de-linde', '999910036', 'CAREMGT', payload),
    exchangeParameters('Organization/veilig-thuis-noord-limburg', '999910036', 'CAREMGT', payload, legal),
    {
      resourceType: 'Parameters',
      parameter: [
        { name: 'source', valueReference: { reference: 'Organization/jeugdzorg-horizon' } },
        { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: '999910036' } },
        { name: 'purpose', valueCoding: { code: 'CAREMGT' } },
        { name: 'category', valueCoding: { code: 'care-plan' } },
      ],
    },
  ];
  const consent = consentResource(child, [child], ['Organization/huisartsen-de-linde'], ['CAREMGT']);
  const resources = {
    Patient: [patientResource('999910036', '2017-03-14')],
    RelatedPerson: [parentResource(child, '999949184', true)],
    Consent: [consent],
    Group: [
      {
        resourceType: 'Group',
        type: 'person',
        actual: true,
        identifier: [{ system: 'https://ketenpoort.nl/fhir/NamingSystem/family', value: 'fam-1' }],
        member: [{ entity: { reference: child } }],
      },
    ],
    Organization: [{ resourceType: 'Organization', name: 'Nieuw', identifier: [{ value: '1' }] }],
    Endpoint: [
      {
        resourceType: 'Endpoint',
        status: 'active',
        connectionType: { code: 'hl7-fhir-rest' },
        payloadType: [{ text: 'x' }],
        address: 'http://localhost/fhir',
      },
    ],
    Task: [
      {
        resourceType: 'Task',
        id: ids.Task ?? 'x',
        status: 'completed',
        intent: 'order',
        output: [
          { type: { text: 'decision' }, valueCode: 'approved' },
          { type: { text: 'note' }, valueString: 'Akkoord' },
        ],
      },
    ],
  };
  return {
    ...resources,
    Bundle: [
      fixture('referrals/01-bakker.bundle.json'),
      payload,
      {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:0f0f0f0f-0000-4000-8000-000000000001',
            resource: patientResource('999910036', '2017-03-14'),
            request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${BSN_SYSTEM}|999910036` },
          },
          {
            resource: consentResource(
              'urn:uuid:0f0f0f0f-0000-4000-8000-000000000001',
              ['urn:uuid:0f0f0f0f-0000-4000-8000-000000000001'],
              ['Organization/huisartsen-de-linde'],
              ['CAREMGT'],
            ),
            request: { method: 'POST', url: 'Consent' },
          },
        ],
      },
    ],
    Parameters: parameters,
    native: [
      fixture('referrals/01-bakker.json'),
      fixture('youthcare-registrations/01-bakker-lotte.json'),
      fixture('municipal-cases/01-yilmaz-emre.json'),
    ],
    cds: [
      {
        hook: 'patient-consent-consult',
        hookInstance: 'b1a2',
        context: {
          patientId: [{ system: BSN_SYSTEM, value: '999910036' }],
          scope: 'patient-privacy',
          actor: [{ system: 'https://ketenpoort.nl/fhir/NamingSystem/agency', value: 'huisartsen-de-linde' }],
          purposeOfUse: ['CAREMGT'],
        },
      },
      // LEAP's own shape: consent category, purposes, class and content to redact.
      {
        hook: 'patient-consent-consult',
        hookInstance: 'b1a3',
        context: {
          patientId: [{ system: BSN_SYSTEM, value: '999910036' }],
          category: [
            { system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' },
          ],
          actor: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000107' }],
          purposeOfUse: ['CAREMGT', 'TREAT'],
          class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'CarePlan' }],
          content: {
            resourceType: 'Bundle',
            type: 'collection',
            entry: [{ resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan' } }],
          },
        },
      },
      {
        hook: 'bundle-security-label',
        hookInstance: 'b1a4',
        context: {
          bundle: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Observation' } }] },
        },
      },
    ],
    xacml: [
      {
        Request: {
          AccessSubject: [
            { Attribute: [{ AttributeId: 'actor', Value: [{ system: 'urn:x', value: '90000107' }] }] },
          ],
          Action: [{ Attribute: [{ AttributeId: 'purposeOfUse', Value: 'CAREMGT' }] }],
          Resource: [
            {
              Attribute: [{ AttributeId: 'patientId', Value: [{ system: BSN_SYSTEM, value: '999910036' }] }],
            },
          ],
        },
      },
    ],
    trajectory: [
      {
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'municipality',
            valueIdentifier: { system: 'urn:oid:2.16.840.1.113883.2.4.6.2', value: '0983' },
          },
          { name: 'trajectory', valueString: 'x' },
        ],
      },
    ],
  };
}

/** Which seeds a route takes. */
function seedKind(route: Route): string {
  const p = route.path;
  if (p.startsWith('/mappings/') && p.endsWith('$to-fhir')) return 'native';
  if (p.startsWith('/mappings/')) return 'Bundle';
  if (p.startsWith('/cds-services')) return 'cds';
  if (p === '/xacml') return 'xacml';
  if (p.startsWith('/reports/')) return 'trajectory';
  if (p === '/fhir') return 'Bundle';
  const type = /^\/fhir\/(\w+)/.exec(p)?.[1];
  if (p.includes('/$') && !p.endsWith('$validate')) return 'Parameters';
  return type ?? 'Parameters';
}

/** Values put in place of an element: wrong JSON types, nulls, hostile strings and numbers, deep nesting. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    'x',
    {},
    [],
    [null],
    [[]],
    0,
    -1,
    1e308,
    -0,
    true,
    '',
    ' ',
    'Patient/',
    '999910036',
    '9999-99-99',
    '2026-02-30',
    '__proto__',
    { __proto__: null, constructor: 'x' },
    { reference: null },
    { coding: [null] },
    [{ type: null }],
    'x'.repeat(10_000),
  ),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Every path (as keys) to an element of a JSON value. */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const path = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(path);
      pathsOf(v, path, out);
    }
  }
  return out;
}

type Mutation = { at: number; op: 'set' | 'delete' | 'wrap' | 'key'; value: unknown };

function mutate(seed: unknown, mutations: Mutation[]): unknown {
  const copy = structuredClone(seed);
  for (const m of mutations) {
    const paths = pathsOf(copy);
    if (paths.length === 0) return m.value;
    const path = paths[m.at % paths.length]!;
    let parent = copy as Record<string | number, unknown>;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (m.op === 'wrap') parent[last] = Array.isArray(parent[last]) ? parent[last][0] : [parent[last]];
    else if (m.op === 'key' && !Array.isArray(parent))
      parent[`${String(last)}${(JSON.stringify(m.value) ?? 'u').slice(0, 8)}`] = 1;
    else parent[last] = m.value;
  }
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<Mutation['op']>('set', 'set', 'set', 'delete', 'wrap', 'key'),
  value: hostileValue,
});

/** Raw bodies no JSON reader should trip on. */
const RAW = [
  '',
  '{',
  'null',
  '[]',
  '"x"',
  '1e999',
  '{"resourceType":"Patient","__proto__":{"polluted":1}}',
  '{"resourceType":"Patient","name":[{"family":"a\\u0000b"}]}',
  '{"resourceType":"Patient","birthDate":"\\ud800"}',
  nested(150),
  nested(2000),
  `{"resourceType":"Bundle","type":"transaction","entry":${'['.repeat(5000)}${']'.repeat(5000)}}`,
];

function bodyArb(kind: string, all: Record<string, unknown[]>): fc.Arbitrary<string> {
  const candidates = all[kind] ?? all.Parameters!;
  return fc.oneof(
    {
      weight: 7,
      arbitrary: fc
        .tuple(fc.constantFrom(...candidates), fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([seed, ms]) => JSON.stringify(mutate(seed, ms))),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW) },
  );
}

const ID_VALUES = [
  'x',
  '__proto__',
  'constructor',
  '%00',
  'abc%00def',
  '%ff',
  '%2e%2e',
  '..%2F..',
  '1e20',
  '-1',
  '%20',
  'a'.repeat(300),
  '%E2%82%AC',
  'Patient',
];

const QUERY_NAMES = [
  'identifier',
  'patient',
  'patient:identifier',
  'status',
  'member',
  'organization',
  'code',
  'url',
  'system',
  'filter',
  'displayLanguage',
  'type',
  '_count',
  '_offset',
  '_sort',
  '_format',
  '_total',
  '_include',
  'overdue',
  'about',
  'agent',
  'date',
  'outcome',
  'purpose',
  'period',
  'municipality',
  'identifier[0]',
  'identifier[a]',
  '__proto__',
  'x',
];

const QUERY_VALUES = fc.oneof(
  fc.constantFrom(
    '',
    'x',
    '%00',
    'a%00b',
    '%ff',
    '1e20',
    'Infinity',
    '-1',
    'NaN',
    '0',
    '999999999',
    '1.5',
    encodeURIComponent(`${BSN_SYSTEM}|999910036`),
    '|',
    '||',
    'a|b|c',
    'Patient/',
    'Patient/x/y',
    '__proto__',
    'constructor',
    'ge2026-02-30',
    'ge0000',
    'gt2026-11',
    'lt9999-99-99',
    'true',
    '2023',
    '2023-Q9',
    'csv',
    'ndjson',
    encodeURIComponent('Organization/cjg-venlo'),
  ),
  fc.string({ maxLength: 16 }).map(encodeURIComponent),
);

/** One hostile request to one of the routes, by one of the roles (or with no or a forged token). */
export function requestArb(
  routes: Route[],
  ids: Record<string, string>,
  roles: string[],
): fc.Arbitrary<HostileRequest> {
  const all = seeds(ids);
  const formats = ['cjg-referral', 'youthcare-registration', 'municipal-case'];
  return fc.constantFrom(...routes).chain((route) => {
    const kind = seedKind(route);
    const type = /^\/fhir\/(\w+)\/\{id\}/.exec(route.path)?.[1] ?? '';
    const idArb = fc.constantFrom(...(ids[type] ? [ids[type], ids[type], ...ID_VALUES] : ID_VALUES));
    const path = fc
      .tuple(idArb, fc.constantFrom(...formats, ...formats, '__proto__', 'constructor', 'x'))
      .map(([id, format]) => route.path.replace('{id}', id).replace('{format}', format));
    const query = fc
      .array(fc.tuple(fc.constantFrom(...QUERY_NAMES), QUERY_VALUES), { maxLength: 4 })
      .map((pairs) =>
        pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')}` : '',
      );
    const headers = fc.record(
      {
        'Idempotency-Key': fc.constantFrom('k1', 'k2', 'x'.repeat(300), ''),
        'If-None-Exist': fc.constantFrom(
          `identifier=${BSN_SYSTEM}|999910036`,
          'identifier=',
          'x=y&z=1',
          '%00',
          'identifier=a|b|c',
        ),
        'If-Match': fc.constantFrom('W/"1"', '"x"', 'W/', '1e20'),
        Accept: fc.constantFrom('text/html', 'text/csv', 'application/fhir+json'),
        'Accept-Language': fc.constantFrom('nl', 'en;q=x', '*'),
      },
      { requiredKeys: [] },
    );
    const writes = route.method === 'post' || route.method === 'put';
    const body = writes
      ? route.path === '/auth/token'
        ? fc
            .tuple(fc.constantFrom('client_credentials', '', 'x'), fc.string({ maxLength: 40 }))
            .map(
              ([g, a]) =>
                `grant_type=${g}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=${encodeURIComponent(a)}`,
            )
        : route.path.endsWith('$to-fhir')
          ? fc.oneof(bodyArb(kind, all), fc.constant(text('referrals/01-bakker.csv')), fc.string())
          : bodyArb(kind, all)
      : fc.constant(undefined);
    const contentType =
      route.path === '/auth/token'
        ? fc.constant('application/x-www-form-urlencoded')
        : fc.oneof(
            { weight: 8, arbitrary: fc.constantFrom('application/fhir+json', 'application/json') },
            { weight: 1, arbitrary: fc.constantFrom('text/csv', 'text/plain', 'application/xml') },
          );
    // The roles that may write reach the deepest code; the others, and no or a forged token, less often.
    const role = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('cjg', 'privacy-officer') },
      { weight: 2, arbitrary: fc.constantFrom(...roles) },
    );
    return fc.record({ path, query, headers, body, contentType, role }).map((r) => ({
      method: route.method.toUpperCase(),
      url: `${r.path}${r.query}`,
      role: r.role,
      headers: { ...r.headers, ...(r.body !== undefined ? { 'content-type': r.contentType } : {}) },
      body: r.body,
    }));
  });
}

/** The fixed regression cases of the issue, each a request that must be refused without a trace. */
export function regressionCases(ids: Record<string, string>): HostileRequest[] {
  const all = seeds(ids);
  const cjg = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => ({
    method,
    url,
    role: 'cjg',
    headers: { 'content-type': 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const patient = all.Patient![0] as Record<string, unknown>;
  const tx = (entry: unknown) => ({ resourceType: 'Bundle', type: 'transaction', entry });
  const txEntry = (all.Bundle![2] as { entry: Record<string, unknown>[] }).entry[0]!;
  const exchange = all.Parameters![0] as { parameter: unknown[] };
  return [
    cjg('POST', '/fhir/Patient', { ...patient, identifier: {} }),
    cjg('POST', '/fhir/Patient', { ...patient, extension: 'x' }),
    cjg('POST', '/fhir/$exchange', {
      ...exchange,
      parameter: [
        ...exchange.parameter.slice(0, 3),
        { name: 'payload', resource: { resourceType: 'Bundle', type: 'collection', entry: [null] } },
      ],
    }),
    cjg('POST', '/fhir/Patient', { ...patient, meta: { profile: {} } }),
    cjg('POST', '/fhir/$consent-decision', {
      ...exchange,
      parameter: [{ name: 'recipient', valueReference: null }, ...exchange.parameter.slice(1)],
    }),
    cjg('POST', '/fhir', tx('x')),
    cjg('POST', '/fhir', tx([{ ...txEntry, fullUrl: 7 }])),
    cjg(
      'POST',
      '/fhir',
      tx([{ ...txEntry, request: { method: 'POST', url: 'Patient', ifNoneExist: ['x'] } }]),
    ),
    ...['cjg-referral', 'youthcare-registration', 'municipal-case'].map((f) =>
      cjg('POST', `/mappings/${f}/$from-fhir`, {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: { resourceType: 'Patient', name: [null], identifier: [null] } }, null],
      }),
    ),
    cjg('POST', '/mappings/constructor/$to-fhir', {}),
    cjg('POST', '/mappings/__proto__/$from-fhir', {}),
    {
      ...cjg('PUT', `/fhir/Task/${ids.Task ?? 'x'}`, {
        ...(all.Task![0] as object),
        output: [{ type: null }],
      }),
      role: 'privacy-officer',
    },
    cjg('GET', '/fhir/Patient?_offset=1e20'),
    cjg('GET', '/fhir/Patient?_count=Infinity'),
    cjg('GET', '/fhir/Patient?identifier=a%00b'),
    cjg('GET', `/fhir/Patient/${ids.Patient ?? 'x'}%00`),
    cjg('POST', '/fhir/Patient', { ...patient, name: [{ family: 'Jan\u0000sen' }] }),
    cjg('POST', '/fhir/Patient', nested(2000)),
    cjg('POST', '/fhir/$exchange', nested(5000), { 'Idempotency-Key': 'deep' }),
    cjg('POST', '/fhir/Consent', { ...(all.Consent![0] as object), performer: [null] }),
  ];
}
