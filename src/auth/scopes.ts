// SMART v2 system scopes: what each route asks of a token, what a role may be granted, and the check itself.
import {
  DIRECTORY_TYPES,
  PERMISSIONS,
  PERSON_INDEX_TYPES,
  ROLES,
  type Permission,
  type Role,
} from './access.js';
import { PAYLOAD_TYPES } from '../mappings/payload-types.js';

/** SMART v2 actions: create, read, update, delete, search. */
export type ScopeAction = 'c' | 'r' | 'u' | 'd' | 's';
const ACTIONS: readonly ScopeAction[] = ['c', 'r', 'u', 'd', 's'];

/** What a route asks of a token: these actions on this resource type. */
export interface ScopeNeed {
  type: string;
  actions: ScopeAction[];
}

/**
 * One route of the API and what it demands. `scope` is `Type.actions`, `per-entry` (a transaction: each entry's type,
 * `c` for POST and `u` for PUT) or `none` (public: no token). `permission` names the roles (access.ts) that may be
 * granted the scope.
 */
export interface RouteScope {
  route: string;
  scope: string;
  permission: Permission | 'public' | Permission[];
}

const INDEXED = [...PERSON_INDEX_TYPES, ...DIRECTORY_TYPES] as const;
/** Types $validate is offered for (app.ts registers the same list): a payload Bundle and every type it may carry. */
const VALIDATED = ['Bundle', ...PAYLOAD_TYPES] as const;

const isPersonIndex = (type: string) => (PERSON_INDEX_TYPES as readonly string[]).includes(type);
/** Who may write and read an indexed type: the person index, or the directory (organisations, endpoints). */
const indexPermissions = (type: string): { write: Permission; read: Permission } =>
  isPersonIndex(type)
    ? { write: 'person-index:write', read: 'person-index:read' }
    : { write: 'directory:write', read: 'directory:read' };

/**
 * Every route, in the order express matches them (an operation before the `{id}` read of the same type). The table in
 * docs/security.md ("Authentication and scopes") mirrors this one; test/authorization-matrix.test.ts checks both
 * against the running gateway.
 */
export const ROUTE_SCOPES: readonly RouteScope[] = [
  { route: 'GET /health', scope: 'none', permission: 'public' },
  { route: 'GET /ready', scope: 'none', permission: 'public' },
  { route: 'POST /auth/token', scope: 'none', permission: 'public' },
  { route: 'GET /.well-known/jwks.json', scope: 'none', permission: 'public' },
  { route: 'GET /.well-known/smart-configuration', scope: 'none', permission: 'public' },
  { route: 'GET /fhir/.well-known/smart-configuration', scope: 'none', permission: 'public' },
  { route: 'GET /mappings', scope: 'none', permission: 'public' },
  { route: 'POST /mappings/{format}/$to-fhir', scope: 'Bundle.c', permission: 'exchange' },
  { route: 'POST /mappings/{format}/$from-fhir', scope: 'Bundle.r', permission: 'exchange' },
  ...['CodeSystem', 'ValueSet', 'StructureDefinition', 'OperationDefinition'].flatMap((type) => [
    { route: `GET /fhir/${type}`, scope: 'none', permission: 'public' as const },
    { route: `GET /fhir/${type}/{id}`, scope: 'none', permission: 'public' as const },
  ]),
  { route: 'GET /fhir/CodeSystem/$validate-code', scope: 'none', permission: 'public' },
  { route: 'GET /fhir/ValueSet/$expand', scope: 'none', permission: 'public' },
  { route: 'GET /fhir/ValueSet/$validate-code', scope: 'none', permission: 'public' },
  { route: 'GET /fhir/Measure/{id}', scope: 'none', permission: 'public' },
  { route: 'GET /fhir/metadata', scope: 'none', permission: 'public' },
  { route: 'GET /openapi.json', scope: 'none', permission: 'public' },
  { route: 'GET /console/', scope: 'none', permission: 'public' },
  // Sign-in for people (OpenID Connect): outside the token-scoped API; the session's rights are its person's role.
  { route: 'GET /console/login', scope: 'none', permission: 'public' },
  { route: 'GET /console/callback', scope: 'none', permission: 'public' },
  { route: 'GET /console/session', scope: 'none', permission: 'public' },
  { route: 'POST /console/logout', scope: 'none', permission: 'public' },
  { route: 'GET /cds-services', scope: 'none', permission: 'public' },
  // Validating is asking "would you take this": an index entry as its create, payload content as an exchange.
  ...VALIDATED.map((type): RouteScope => {
    if (!(INDEXED as readonly string[]).includes(type))
      return { route: `POST /fhir/${type}/$validate`, scope: 'Bundle.c', permission: 'exchange' };
    return {
      route: `POST /fhir/${type}/$validate`,
      scope: `${type}.c`,
      permission: indexPermissions(type).write,
    };
  }),
  { route: 'POST /fhir/$exchange', scope: 'Bundle.c', permission: 'exchange' },
  { route: 'POST /fhir/$request-records', scope: 'Bundle.r', permission: 'exchange' },
  { route: 'POST /fhir/$consent-decision', scope: 'Consent.r', permission: ['exchange', 'audit:read'] },
  // Asking "how sensitive is this" before sending: as $validate of payload content, an exchange's scope.
  { route: 'POST /fhir/Bundle/$security-label', scope: 'Bundle.c', permission: 'exchange' },
  { route: 'POST /fhir/Consent/{id}/$withdraw', scope: 'Consent.u', permission: 'person-index:write' },
  { route: 'GET /fhir/Consent/{id}/_history', scope: 'Consent.r', permission: 'person-index:read' },
  { route: 'GET /fhir/Patient/$access-report', scope: 'AuditEvent.r', permission: 'access-report' },
  { route: 'GET /fhir/Patient/$permissions', scope: 'Consent.r', permission: 'permissions' },
  { route: 'GET /fhir/Task/{id}', scope: 'Task.r', permission: 'task:read' },
  { route: 'PUT /fhir/Task/{id}', scope: 'Task.u', permission: 'task:write' },
  { route: 'GET /fhir/Task', scope: 'Task.s', permission: 'task:read' },
  { route: 'GET /fhir/Communication', scope: 'Communication.s', permission: 'task:read' },
  { route: 'GET /fhir/AuditEvent', scope: 'AuditEvent.s', permission: 'audit:read' },
  { route: 'GET /fhir/AuditEvent/$verify', scope: 'AuditEvent.r', permission: 'audit:read' },
  { route: 'GET /fhir/AuditEvent/$export', scope: 'AuditEvent.s', permission: 'audit:read' },
  { route: 'GET /fhir/AuditEvent/{id}', scope: 'AuditEvent.r', permission: 'audit:read' },
  ...INDEXED.flatMap((type) => {
    const { write, read } = indexPermissions(type);
    return [
      { route: `POST /fhir/${type}`, scope: `${type}.c`, permission: write },
      { route: `GET /fhir/${type}`, scope: `${type}.s`, permission: read },
      { route: `GET /fhir/${type}/{id}`, scope: `${type}.r`, permission: read },
      { route: `PUT /fhir/${type}/{id}`, scope: `${type}.u`, permission: write },
    ];
  }),
  { route: 'POST /fhir', scope: 'per-entry', permission: ['person-index:write', 'directory:write'] },
  { route: 'POST /cds-services/patient-consent-consult', scope: 'Consent.r', permission: 'exchange' },
  { route: 'POST /cds-services/bundle-security-label', scope: 'Bundle.c', permission: 'exchange' },
  { route: 'POST /xacml', scope: 'Consent.r', permission: 'exchange' },
  { route: 'POST /reports/$record-trajectory', scope: 'EpisodeOfCare.c', permission: 'report:record' },
  { route: 'GET /reports/$municipal', scope: 'MeasureReport.r', permission: 'report:read' },
];

/** The roles a route's scope may be granted to. */
export function rolesOf(entry: RouteScope): readonly Role[] {
  const { permission } = entry;
  if (permission === 'public') return ROLES;
  const permissions = Array.isArray(permission) ? permission : [permission];
  return ROLES.filter((r) => permissions.some((p) => PERMISSIONS[p].includes(r)));
}

function needOf(scope: string): ScopeNeed | undefined {
  const m = /^(\w+)\.([cruds]+)$/.exec(scope);
  return m ? { type: m[1]!, actions: [...m[2]!] as ScopeAction[] } : undefined;
}

const MATCHERS = ROUTE_SCOPES.map((entry) => {
  const [method, path] = entry.route.split(' ') as [string, string];
  const pattern = path
    .split(/(\{\w+\})/)
    .map((part) => (/^\{\w+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  // Express matches paths case-insensitively and with an optional trailing slash; so does this.
  return { method, regexp: new RegExp(`^${pattern.replace(/\/$/, '')}/?$`, 'i'), entry };
});

/** The table entry express will route this request to, or undefined when no route matches. */
export function routeOf(method: string, path: string): RouteScope | undefined {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return MATCHERS.find((x) => x.method === m && x.regexp.test(path))?.entry;
}

/**
 * What a request asks of its token. A conditional create (If-None-Exist) searches too; a transaction asks, per entry,
 * `c` (POST; `cs` conditional) or `u` (PUT) on the entry's resource type.
 */
export function scopeNeeds(entry: RouteScope, ifNoneExist: string | undefined, body: unknown): ScopeNeed[] {
  if (entry.scope === 'none') return [];
  if (entry.scope === 'per-entry') {
    const entries = (body as { entry?: unknown } | undefined)?.entry;
    if (!Array.isArray(entries)) return [];
    return entries.flatMap((e: unknown): ScopeNeed[] => {
      const { resource, request } = (e ?? {}) as {
        resource?: { resourceType?: unknown };
        request?: { method?: unknown; ifNoneExist?: unknown };
      };
      const type = resource?.resourceType;
      if (typeof type !== 'string') return [];
      if (request?.method === 'POST') return [{ type, actions: request.ifNoneExist ? ['c', 's'] : ['c'] }];
      if (request?.method === 'PUT') return [{ type, actions: ['u'] }];
      return [];
    });
  }
  const need = needOf(entry.scope)!;
  if (ifNoneExist !== undefined && need.actions.includes('c')) return [{ ...need, actions: ['c', 's'] }];
  return [need];
}

/** Parsed scopes of one level: actions per resource type (`*` = every type). */
export type ScopeSet = Map<string, Set<ScopeAction>>;
export type ScopeLevel = 'system' | 'patient';

/** A person's token is about that person (`patient/`); every agency client acts as a system (`system/`). */
export const levelOf = (role: Role): ScopeLevel => (role === 'person' ? 'patient' : 'system');

const V1_ACTIONS: Record<string, ScopeAction[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': [...ACTIONS],
};

/**
 * Parses a space-separated scope string: SMART v2 (`system/Patient.rs`) and v1 (`system/Patient.read`, `.write`,
 * `.*`), `*` for every type. Other scopes (openid, launch, `user/`, v2 scopes with a query) grant nothing here.
 */
export function parseScopes(scope: string, level: ScopeLevel): ScopeSet {
  const set: ScopeSet = new Map();
  for (const token of scope.split(/\s+/)) {
    const m = /^(system|patient|user)\/(\*|[A-Z][A-Za-z]*)\.(\*|read|write|c?r?u?d?s?)$/.exec(token);
    if (!m || m[1] !== level || m[3] === '') continue;
    const actions = V1_ACTIONS[m[3]!] ?? ([...m[3]!] as ScopeAction[]);
    const have = set.get(m[2]!) ?? new Set<ScopeAction>();
    for (const a of actions) have.add(a);
    set.set(m[2]!, have);
  }
  return set;
}

function allows(set: ScopeSet, type: string, action: ScopeAction): boolean {
  return Boolean(set.get(type)?.has(action) || set.get('*')?.has(action));
}

/** Whether a token's scope string covers every need. */
export function scopeCovers(scope: string, role: Role, needs: ScopeNeed[]): boolean {
  const set = parseScopes(scope, levelOf(role));
  return needs.every((n) => n.actions.every((a) => allows(set, n.type, a)));
}

/** The most a role may be granted: the scopes of every route its permissions reach. */
export function roleScopes(role: Role): ScopeSet {
  const set: ScopeSet = new Map();
  for (const entry of ROUTE_SCOPES) {
    const need = needOf(entry.scope);
    if (!need || !rolesOf(entry).includes(role)) continue;
    const have = set.get(need.type) ?? new Set<ScopeAction>();
    for (const a of need.actions) have.add(a);
    set.set(need.type, have);
  }
  // A conditional create searches first; whoever may create a type may search it (see the table's read rows).
  return set;
}

/**
 * The scope a token carries: what the client asked for (`system/*.*` when it asked nothing), narrowed to what its
 * role may have, written as SMART v2 scopes per type. Empty when nothing asked for may be granted.
 */
export function grantScope(requested: string, role: Role): string {
  const level = levelOf(role);
  const asked = parseScopes(requested, level);
  const granted: string[] = [];
  for (const [type, actions] of [...roleScopes(role)].sort(([a], [b]) => a.localeCompare(b))) {
    const mine = ACTIONS.filter((a) => actions.has(a) && allows(asked, type, a));
    if (mine.length) granted.push(`${level}/${type}.${mine.join('')}`);
  }
  return granted.join(' ');
}
