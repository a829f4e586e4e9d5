// Who may do what: access rules as data, evaluated by plain functions, apart from HTTP.
import { forbidden } from '../fhir/outcomes.js';

export const ROLES = [
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
  // A person looking at their own access report (or their child's); not an agency client role.
  'person',
] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The authenticated caller: a registered agency system acting for one organisation. */
export interface Principal {
  clientId: string;
  role: Role;
  /** `Organization/<id>` the client belongs to. */
  org: string;
  scope: string;
  /** For a person's token: their own BSN. */
  patient?: string;
}

/** Agencies that keep records about families and may register persons and consents. */
const AGENCIES: Role[] = ['cjg', 'youth-care', 'gi', 'municipality', 'veilig-thuis', 'rvdk', 'gp', 'school'];

export type Permission =
  | 'person-index:write'
  | 'person-index:read'
  | 'directory:read'
  | 'directory:write'
  | 'exchange'
  | 'task:read'
  | 'task:write'
  | 'audit:read'
  | 'access-report'
  | 'permissions'
  | 'report:record'
  | 'report:read';

export const PERMISSIONS: Record<Permission, readonly Role[]> = {
  'person-index:write': AGENCIES,
  'person-index:read': [...AGENCIES, 'privacy-officer'],
  'directory:read': ROLES,
  'directory:write': ['admin'],
  // Research never names a person: it receives pseudonymised pushes and never asks by BSN (that would link the two).
  exchange: AGENCIES,
  'task:read': [...AGENCIES, 'research', 'privacy-officer'],
  // A privacy officer completes reviews; the disclosing agency records a client notification. Research changes none.
  'task:write': [...AGENCIES, 'privacy-officer'],
  'audit:read': ['privacy-officer'],
  'access-report': ['privacy-officer', 'person'],
  // Who may receive what about a person: the agency that arranged its consents, the officer, and the person.
  permissions: [...AGENCIES, 'privacy-officer', 'person'],
  // The agencies that coordinate care record their trajectories; the municipality (its own only), research and the
  // privacy officer read the aggregate report.
  'report:record': ['cjg', 'youth-care', 'gi'],
  'report:read': ['municipality', 'research', 'privacy-officer'],
};

export function may(principal: Pick<Principal, 'role'>, permission: Permission): boolean {
  return PERMISSIONS[permission].includes(principal.role);
}

/** Refuses (403 role-not-allowed) a caller whose role has none of the permissions. */
export function demand(principal: Principal, permission: Permission | readonly Permission[]): void {
  const permissions: readonly Permission[] = typeof permission === 'string' ? [permission] : permission;
  if (!permissions.some((p) => may(principal, p))) {
    const named = permissions.join(', ');
    throw forbidden(
      `De rol ${principal.role} mag dit niet (${named}) / The role ${principal.role} may not do this (${named})`,
      {
        coding: [
          { system: 'https://ketenpoort.nl/fhir/CodeSystem/decision-reason', code: 'role-not-allowed' },
        ],
      },
    );
  }
}

/** Privacy officers see every registration; everyone else only what their organisation registered. */
export function sees(principal: Pick<Principal, 'role'>): 'all' | 'own' {
  return principal.role === 'privacy-officer' ? 'all' : 'own';
}

/** Resource types of the person index (personal data, scoped per organisation) and of the agency directory (public). */
export const PERSON_INDEX_TYPES = ['Patient', 'RelatedPerson', 'Group', 'Consent'] as const;
export const DIRECTORY_TYPES = ['Organization', 'Endpoint'] as const;
