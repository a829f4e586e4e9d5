// The audit side of a registration change: whom it is about, and which facts that decisions rely on it alters.
import type { RelatedPerson, Resource } from '@medplum/fhirtypes';
import { PARENTAL_AUTHORITY_URL } from '../consent/constants.js';
import { bsnOf } from './references.js';

export function auditSubject(resource: Resource): { bsn?: string; reference?: string } | undefined {
  if (resource.resourceType === 'Patient')
    return { bsn: bsnOf(resource), reference: `Patient/${resource.id}` };
  if (resource.resourceType === 'RelatedPerson' || resource.resourceType === 'Consent')
    return { reference: resource.patient?.reference };
  return undefined;
}

/** The facts of a registration that decisions rely on, for the audit record of a change. */
export function factsOf(resource: Resource): string[] {
  const authority = (r: RelatedPerson) =>
    r.extension?.find((e) => e.url === PARENTAL_AUTHORITY_URL)?.valueBoolean;
  switch (resource.resourceType) {
    case 'Patient':
      return [`bsn=${bsnOf(resource) ?? '-'}`, `birthDate=${resource.birthDate ?? '-'}`];
    case 'RelatedPerson':
      return [
        `patient=${resource.patient?.reference ?? '-'}`,
        `bsn=${bsnOf(resource) ?? '-'}`,
        `parentalAuthority=${authority(resource) ?? '-'}`,
      ];
    case 'Group':
      return (resource.member ?? []).map(
        (m) => `member=${m.entity?.reference}${m.inactive ? ' (inactive)' : ''}`,
      );
    case 'Consent':
      return [`status=${resource.status}`, `patient=${resource.patient?.reference ?? '-'}`];
    default:
      return [];
  }
}

/** Which facts a change alters: `name: before → after` for each that differs. */
export function changedFacts(before: Resource, after: Resource): string[] {
  const was = new Map(factsOf(before).map((f) => [f.slice(0, f.indexOf('=')), f]));
  const is = factsOf(after);
  if (before.resourceType === 'Group') {
    const a = factsOf(before).sort().join(', ');
    const b = is.sort().join(', ');
    return a === b ? [] : [`members: ${a || '-'} → ${b || '-'}`];
  }
  return is.flatMap((f) => {
    const name = f.slice(0, f.indexOf('='));
    const old = was.get(name);
    return old === f ? [] : [`${name}: ${old?.slice(name.length + 1) ?? '-'} → ${f.slice(name.length + 1)}`];
  });
}
