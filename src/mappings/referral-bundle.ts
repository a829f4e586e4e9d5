// The cjg-referral form and its FHIR Bundle, both ways: ServiceRequest + family Group + child Patients + parent
// RelatedPersons (one per parent and child) + involved agencies as Organizations, filled from the field tables.
import type {
  Bundle,
  BundleEntry,
  Group,
  OperationOutcomeIssue,
  Organization,
  Patient,
  Reference,
  RelatedPerson,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { agencyEntity, referralEntity, type NativeReferral } from './cjg-referral.js';
import { childEntity, parentEntity } from './referral-people.js';
import {
  apply,
  collection,
  MappingError,
  read,
  unmapped,
  unusedEntries,
  urn,
  type NativeRecord,
} from './fields.js';

/** Maps a (schema-checked) referral form onto a FHIR collection Bundle. */
export function referralToFhir(native: NativeReferral): Bundle {
  const id = String(native.referralId);
  const request: ServiceRequest = {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'proposal',
    code: { text: 'Aanmelding coördinatie van zorg' },
    subject: { reference: urn(id, 'family') },
  };
  const group: Group = { resourceType: 'Group', type: 'person', actual: true, member: [] };
  const { parents = [], children, agencies = [], ...top } = native;
  apply(referralEntity, top, { request, group });
  const entries: BundleEntry[] = [];
  const childUrls = children.map((_, i) => urn(id, `child/${i}`));
  children.forEach((child, i) => {
    const patient: Patient = { resourceType: 'Patient' };
    apply(childEntity, child, patient);
    entries.push({ fullUrl: childUrls[i], resource: patient });
    group.member!.push({ entity: { reference: childUrls[i] } });
  });
  parents.forEach((parent, p) => {
    childUrls.forEach((childUrl, c) => {
      const person: RelatedPerson = { resourceType: 'RelatedPerson', patient: { reference: childUrl } };
      apply(parentEntity, parent, person);
      const url = urn(id, `parent/${p}/child/${c}`);
      entries.push({ fullUrl: url, resource: person });
      group.member!.push({ entity: { reference: url } });
    });
  });
  request.supportingInfo = agencies.map((agency, a) => {
    const organization: Organization = { resourceType: 'Organization' };
    const involvement: Reference = { reference: urn(id, `agency/${a}`) };
    apply(agencyEntity, agency, { organization, involvement });
    entries.push({ fullUrl: involvement.reference, resource: organization });
    return involvement;
  });
  if (request.supportingInfo.length === 0) delete request.supportingInfo;
  if (group.member!.length === 0) delete group.member;
  return collection([
    { fullUrl: urn(id, 'request'), resource: request },
    { fullUrl: urn(id, 'family'), resource: group },
    ...entries,
  ]);
}

/** Maps a referral Bundle back onto the form; what the form cannot hold is reported as issues. */
export function referralFromFhir(bundle: Bundle): {
  native: NativeReferral;
  issues: OperationOutcomeIssue[];
} {
  const issues: OperationOutcomeIssue[] = [];
  const byUrl = new Map<string, Resource>();
  const entries = bundle.entry ?? [];
  entries.forEach((e) => e.fullUrl && e.resource && byUrl.set(e.fullUrl, e.resource));
  const of = <T extends Resource>(type: T['resourceType']) =>
    entries.map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
  const requests = of<ServiceRequest>('ServiceRequest');
  if (requests.length !== 1)
    throw new MappingError(
      `a referral Bundle holds exactly one ServiceRequest, not ${requests.length}`,
      'Bundle.entry',
    );
  const request = requests[0]!;
  const group = (request.subject?.reference && byUrl.get(request.subject.reference)) as Group | undefined;
  if (group?.resourceType !== 'Group')
    throw new MappingError(
      'the ServiceRequest must have the family Group of the Bundle as its subject',
      'ServiceRequest.subject',
    );
  const native: NativeReferral = { ...read(referralEntity, { request, group }), children: [] };
  const members = (group.member ?? []).map((m) =>
    m.entity?.reference ? byUrl.get(m.entity.reference) : undefined,
  );
  const patients = members.filter((r): r is Patient => r?.resourceType === 'Patient');
  native.children = patients.map((p) => read(childEntity, p));
  // One parent per person: their RelatedPersons (one per child) are grouped by BSN, else by the whole record.
  const parents = new Map<string, NativeRecord>();
  for (const r of members.filter((m): m is RelatedPerson => m?.resourceType === 'RelatedPerson')) {
    const record = read(parentEntity, r);
    const key = typeof record.bsn === 'string' ? record.bsn : JSON.stringify(record);
    const seen = parents.get(key);
    if (seen && JSON.stringify(seen) !== JSON.stringify(record))
      issues.push(
        unmapped(
          `RelatedPerson ${key}`,
          'the parent is recorded differently for different children; the form keeps the first',
        ),
      );
    if (!seen) parents.set(key, record);
  }
  if (parents.size) native.parents = [...parents.values()];
  const agencies = (request.supportingInfo ?? []).map((ref) => {
    const organization = ref.reference ? byUrl.get(ref.reference) : undefined;
    if (organization?.resourceType !== 'Organization') {
      issues.push(
        unmapped(
          'ServiceRequest.supportingInfo',
          `${ref.reference ?? 'a reference'} is not an Organization of the Bundle`,
        ),
      );
      return undefined;
    }
    return read(agencyEntity, { organization, involvement: ref });
  });
  const known = agencies.filter((a): a is NativeRecord => !!a);
  if (known.length) native.agencies = known;
  const used = new Set<Resource | undefined>([request, group, ...members]);
  for (const ref of request.supportingInfo ?? [])
    used.add(ref.reference ? byUrl.get(ref.reference) : undefined);
  issues.push(...unusedEntries(entries, used, 'form'));
  return { native, issues };
}
