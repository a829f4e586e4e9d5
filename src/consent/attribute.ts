// Whose data each entry of a payload is: a member of the subject's family, the family as a whole, or someone outside
// the request, following subject/patient/for references inside the Bundle and to the person index.
import type { BundleEntry, Patient, Reference, Resource } from '@medplum/fhirtypes';
import type { Catalogue } from './catalogue.js';
import { classify, decisionData } from './classify.js';
import { clinicalCodes } from './consent-scope.js';
import type { PersonFacts } from './consenters.js';
import { BSN_SYSTEM } from './constants.js';
import type { DataItem } from './provisions.js';
import type { DecisionRequest } from './types.js';

export interface Attributed {
  entry: BundleEntry;
  resource: Resource;
  item: DataItem;
  /** The person it is about: a member's reference, 'family' for the whole family, or undefined for a stranger. */
  owner: string | undefined;
}

function bsnOf(resource: { identifier?: { system?: string; value?: string }[] }): string | undefined {
  return resource.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
}

/** Works out whose data each entry is, following subject/patient/for references inside the Bundle and to the index. */
export function attribute(
  req: DecisionRequest,
  persons: PersonFacts[],
  entries: BundleEntry[],
  catalogue: Catalogue,
): Attributed[] {
  const byBsn = new Map(persons.filter((p) => p.bsn).map((p) => [p.bsn!, p.ref]));
  const byRef = new Set(persons.map((p) => p.ref));
  const family = req.subjectKind === 'family';
  // References resolve inside the Bundle first (by fullUrl, or by type/id of an entry), then to the person index.
  const byFullUrl = new Map<string, string | undefined>();
  const byLocalRef = new Map<string, string | undefined>();
  const patientOwner = (p: Resource) =>
    byBsn.get(bsnOf(p as Patient) ?? '') ??
    (p.id && byRef.has(`Patient/${p.id}`) ? `Patient/${p.id}` : undefined);
  for (const e of entries) {
    const r = e.resource;
    if (!r || (r.resourceType !== 'Patient' && r.resourceType !== 'Group')) continue;
    const owner = r.resourceType === 'Patient' ? patientOwner(r) : 'family';
    if (e.fullUrl) byFullUrl.set(e.fullUrl, owner);
    if (r.id) byLocalRef.set(`${r.resourceType}/${r.id}`, owner);
  }
  const ownerOfRef = (ref: Reference): string | undefined => {
    const target = ref.reference;
    if (target && byFullUrl.has(target)) return byFullUrl.get(target);
    if (target?.startsWith('Patient/')) return byRef.has(target) ? target : byLocalRef.get(target);
    if (target?.startsWith('Group/')) return family ? 'family' : undefined;
    if (ref.identifier?.system === BSN_SYSTEM) return byBsn.get(ref.identifier.value ?? '');
    return undefined;
  };
  return entries
    .filter((e) => e.resource)
    .map((e) => {
      const resource = e.resource!;
      const cls = classify(resource, catalogue);
      let owner: string | undefined;
      if (resource.resourceType === 'Patient') owner = patientOwner(resource);
      else if (resource.resourceType === 'RelatedPerson') owner = ownerOfRef(resource.patient);
      else {
        const record = resource as unknown as Record<string, unknown>;
        const path = catalogue.personPaths.find((p) => record[p] !== undefined);
        if (path) {
          const value = record[path];
          const ref = (Array.isArray(value) ? value[0] : value) as Reference;
          owner = ownerOfRef(ref);
        } else {
          // Not about a person (an Organization, a Practitioner): it travels with the subject's data.
          owner = family ? 'family' : persons[0]!.ref;
        }
      }
      const record = resource as unknown as Record<string, string | undefined>;
      const date =
        record.recordedDate ??
        record.authoredOn ??
        record.created ??
        record.date ??
        record.issued ??
        resource.meta?.lastUpdated;
      const reference = resource.id ? `${resource.resourceType}/${resource.id}` : e.fullUrl;
      return {
        entry: e,
        resource,
        owner,
        item: {
          resourceType: resource.resourceType,
          ...decisionData(cls, catalogue),
          date,
          reference,
          codes: clinicalCodes(resource),
        },
      };
    });
}
