// What a resource of the index says about persons: its BSN, its unique key per organisation, the persons it references.
import type { Resource } from '@medplum/fhirtypes';
import { BSN_SYSTEM } from '../store/resources.js';

export function bsnOf(resource: { identifier?: { system?: string; value?: string }[] }): string | undefined {
  return resource.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
}

/**
 * One registration of a person per organisation and BSN (Patient); one parent per child registration and BSN
 * (RelatedPerson). Other organisations keep registrations of their own: see docs/security.md "Person registrations".
 */
export function uniqueKeyOf(resource: Resource, org: string): string | null {
  if (resource.resourceType === 'Patient') {
    const bsn = bsnOf(resource);
    return bsn ? `Patient|${org}|${bsn}` : null;
  }
  if (resource.resourceType === 'RelatedPerson') {
    const bsn = bsnOf(resource);
    return bsn && resource.patient?.reference ? `RelatedPerson|${resource.patient.reference}|${bsn}` : null;
  }
  return null;
}

type PersonRef = { ref: string; path: string; types: string[] };

/** A reference to a person of the index: a literal `Type/id`; one by identifier alone cannot be checked, so it is refused. */
function literal(
  reference: { reference?: unknown } | undefined | null,
  path: string,
  types: string[],
): PersonRef {
  return { ref: typeof reference?.reference === 'string' ? reference.reference : '', path, types };
}

/**
 * References a person-index resource makes to persons: each must be a registration of the caller's organisation —
 * the child of a parent, the patient and every person who consented (Patient or RelatedPerson performers), the members
 * of a family.
 */
export function personRefsOf(resource: Resource): PersonRef[] {
  switch (resource.resourceType) {
    case 'RelatedPerson':
      return [literal(resource.patient, 'RelatedPerson.patient', ['Patient'])];
    case 'Consent':
      return [
        ...(resource.patient ? [literal(resource.patient, 'Consent.patient', ['Patient'])] : []),
        ...(resource.performer ?? []).flatMap((p, i) =>
          p?.reference === undefined || /^(Patient|RelatedPerson)\//.test(p.reference)
            ? [literal(p, `Consent.performer[${i}]`, ['Patient', 'RelatedPerson'])]
            : [],
        ),
      ];
    case 'Group':
      return (resource.member ?? []).map((m, i) =>
        literal(m?.entity, `Group.member[${i}].entity`, ['Patient', 'RelatedPerson']),
      );
    default:
      return [];
  }
}
