// The parties of an exchange: organisations of the gateway's directory, found by reference or identifier, with their
// agency role and their FHIR Endpoint.
import type { Endpoint, Identifier, Organization } from '@medplum/fhirtypes';
import { AGENCY_ROLE_SYSTEM } from '../consent/constants.js';
import type { Queryable } from '../store/database.js';
import { readResource, searchResources } from '../store/resources.js';
import { unprocessable } from '../fhir/outcomes.js';
import type { DecisionFactsSource } from '../person-index/decision-facts.js';

export interface Party {
  reference: string;
  organization: Organization;
  role?: string;
}

/** How a request names an organisation: the id of a directory Organization, or one of its identifiers. */
export type OrganizationRef = { id: string } | { identifier: Identifier & { value: string } };

export function rule(diagnostics: string, expression: string) {
  return unprocessable([{ severity: 'error', code: 'business-rule', diagnostics, expression: [expression] }]);
}

/** Finds an Organization by id or identifier; 422 when the directory does not know it. */
export async function resolveOrganization(
  { db, facts }: { db: Queryable; facts?: DecisionFactsSource },
  ref: OrganizationRef,
  name: string,
): Promise<Party> {
  const organization = await lookupOrganization({ db, facts }, ref);
  if (!organization)
    throw rule(
      `De organisatie in ${name} staat niet in het adresboek van de gateway / The ${name} organisation is not in the gateway's directory`,
      `Parameters.parameter[${name}]`,
    );
  return { reference: `Organization/${organization.id}`, organization, role: roleOf(organization) };
}

/** The directory's Organization by id, or by an identifier that exactly one holds; undefined when none. */
export function lookupOrganization(
  { db, facts }: { db: Queryable; facts?: DecisionFactsSource },
  ref: OrganizationRef,
): Promise<Organization | undefined> {
  const key =
    'id' in ref
      ? `Organization|id|${ref.id}`
      : `Organization|identifier|${ref.identifier.system ?? ''}|${ref.identifier.value}`;
  const find = () => findOrganization(db, ref);
  return facts ? facts.directory(key, find) : find();
}

async function findOrganization(db: Queryable, ref: OrganizationRef): Promise<Organization | undefined> {
  if ('id' in ref) return (await readResource<Organization>(db, 'Organization', ref.id))?.resource;
  const found = await searchResources<Organization>(db, {
    type: 'Organization',
    criteria: [
      { param: 'identifier', values: [{ system: ref.identifier.system, value: ref.identifier.value }] },
    ],
    count: 2,
    offset: 0,
    sort: 'asc',
  });
  return found.total === 1 ? found.resources[0] : undefined;
}

export function roleOf(organization: Organization): string | undefined {
  return organization.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === AGENCY_ROLE_SYSTEM)?.code;
}

/** The active FHIR Endpoint of an organisation; 422 when it has none. */
export async function endpointOf(
  { db, facts }: { db: Queryable; facts?: DecisionFactsSource },
  party: Party,
  name = 'recipient',
): Promise<string> {
  const find = () => activeEndpoint(db, party.reference);
  const address = await (facts ? facts.directory(`Endpoint|${party.reference}`, find) : find());
  if (!address)
    throw rule(
      `${party.reference} heeft geen actief FHIR-Endpoint / ${party.reference} has no active FHIR Endpoint`,
      `Parameters.parameter[${name}]`,
    );
  return address;
}

async function activeEndpoint(db: Queryable, organization: string): Promise<string | undefined> {
  const found = await searchResources<Endpoint>(db, {
    type: 'Endpoint',
    criteria: [
      { param: 'organization', values: [{ value: organization }] },
      { param: 'status', values: [{ value: 'active' }] },
    ],
    count: 1,
    offset: 0,
    sort: 'asc',
    total: false,
  });
  return found.resources[0]?.address;
}
