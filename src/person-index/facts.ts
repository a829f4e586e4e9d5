// The facts of a decision, loaded without visibility limits from every organisation's registration of the subject:
// the person or family, parents, consents, and what the registrations disagree on.
import type { Consent, Group, Identifier, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { FAMILY_ID_SYSTEM } from '../consent/constants.js';
import type { DecisionFacts, DisputedFact } from '../consent/types.js';
import type { Queryable } from '../store/database.js';
import { BSN_SYSTEM, readAsOf, readResource, resourcesAsOf, searchResources } from '../store/resources.js';
import { unsettledDisputes } from './conflicts.js';
import {
  alignConsent,
  familyConflict,
  gezagHolders,
  mergeParents,
  mergePerson,
  type FactConflict,
  type MergedPerson,
} from './registrations.js';

export interface Subject {
  kind: 'person' | 'family';
  /** The BSN, or the family identifier's value. */
  value: string;
  identifier: Identifier;
}

export type LoadedFacts = DecisionFacts & {
  subjectRef?: string;
  /** Facts that the organisations' registrations of the subject disagree on. */
  conflicts: FactConflict[];
  /** Facts of disputes raised earlier that no privacy officer has settled yet. */
  unsettled: DisputedFact[];
  /** Per registration of the subject (`Patient/<id>`), the BSNs of the parents it names with parental authority. */
  gezagByRegistration: Map<string, Set<string>>;
  /** Every registration of the subject (or the family's members): `Patient/<id>`. */
  registrations: string[];
};

/** Every organisation's registration of a BSN (the earliest first), as it is now or as it was at a moment. */
async function registrationsOf(db: Queryable, bsn: string, asOf?: Date): Promise<Patient[]> {
  const found = await searchResources<Patient>(db, {
    type: 'Patient',
    criteria: [{ param: 'identifier', values: [{ system: BSN_SYSTEM, value: bsn }] }],
    count: 100,
    offset: 0,
    sort: 'asc',
    total: false,
  });
  if (!asOf) return found.resources;
  const versions = await Promise.all(
    found.resources.map((p) => readAsOf<Patient>(db, 'Patient', p.id!, asOf)),
  );
  return versions.filter((p): p is Patient => p !== undefined);
}

async function byPatient<T extends RelatedPerson | Consent>(
  db: Queryable,
  type: T['resourceType'],
  refs: string[],
  asOf?: Date,
): Promise<T[]> {
  if (asOf) return resourcesAsOf<T>(db, type, refs, asOf);
  const found = await searchResources<T>(db, {
    type,
    criteria: [{ param: 'patient', values: refs.map((value) => ({ value })) }],
    count: 1000,
    offset: 0,
    sort: 'asc',
    total: false,
  });
  return found.resources;
}

/**
 * Loads the facts of a decision without visibility limits, from every organisation's registration: the person or
 * family, parents, and consents — as they are now, or (asOf) as they were at an earlier moment, from the resource
 * history. Registrations of one BSN are merged (src/person-index/registrations.ts); what they disagree on is returned
 * as conflicts.
 */
export async function loadFacts(db: Queryable, subject: Subject, asOf?: Date): Promise<LoadedFacts> {
  const conflicts: FactConflict[] = [];
  let group: Group | undefined;
  let memberBsns = [subject.value];
  if (subject.kind === 'family') {
    const found = await searchResources<Group>(db, {
      type: 'Group',
      criteria: [{ param: 'identifier', values: [{ system: FAMILY_ID_SYSTEM, value: subject.value }] }],
      count: 100,
      offset: 0,
      sort: 'asc',
      total: false,
    });
    const groups = asOf
      ? (await Promise.all(found.resources.map((g) => readAsOf<Group>(db, 'Group', g.id!, asOf)))).filter(
          (g): g is Group => g !== undefined,
        )
      : found.resources;
    const bsnOfRef = new Map<string, string>();
    for (const g of groups) {
      for (const m of g.member ?? []) {
        const [type, id] = (m.entity.reference ?? '').split('/');
        if (type !== 'Patient' || !id || m.inactive || bsnOfRef.has(`Patient/${id}`)) continue;
        const p = asOf
          ? await readAsOf<Patient>(db, 'Patient', id, asOf)
          : (await readResource<Patient>(db, 'Patient', id))?.resource;
        const bsn = p?.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
        if (bsn) bsnOfRef.set(`Patient/${id}`, bsn);
      }
    }
    const membersOf = (g: Group) =>
      (g.member ?? []).flatMap((m) =>
        (m.inactive ? [] : [bsnOfRef.get(m.entity.reference ?? '') ?? '']).filter(Boolean),
      );
    conflicts.push(...familyConflict(groups, membersOf, subject.value));
    group = groups[0];
    memberBsns = group ? [...new Set(membersOf(group))] : [];
  }
  const merged: MergedPerson[] = [];
  for (const bsn of memberBsns) {
    const result = mergePerson(await registrationsOf(db, bsn, asOf), bsn);
    conflicts.push(...result.conflicts);
    if (result.merged) merged.push(result.merged);
  }
  const empty = {
    subject: undefined,
    members: [],
    relatedPersons: [],
    consents: [],
    conflicts,
    unsettled: [],
    gezagByRegistration: new Map<string, Set<string>>(),
    registrations: [],
  };
  if (merged.length === 0) return { ...empty, group };
  const aliases = new Map(merged.flatMap((m) => [...m.aliases]));
  const refs = [...aliases.keys()];
  const [related, consents] = await Promise.all([
    byPatient<RelatedPerson>(db, 'RelatedPerson', refs, asOf),
    byPatient<Consent>(db, 'Consent', refs, asOf),
  ]);
  const relatedPersons: RelatedPerson[] = [];
  for (const person of merged) {
    const parents = mergeParents(related, person);
    relatedPersons.push(...parents.parents);
    conflicts.push(...parents.conflicts);
    for (const [from, to] of parents.aliases) aliases.set(from, to);
  }
  const members = merged.map((m) => m.patient);
  const parentBsns = relatedPersons.flatMap(
    (r) => r.identifier?.flatMap((i) => (i.system === BSN_SYSTEM && i.value ? [i.value] : [])) ?? [],
  );
  const unsettled = asOf
    ? []
    : await unsettledDisputes(db, [
        ...memberBsns,
        ...parentBsns,
        ...(subject.kind === 'family' ? [subject.value] : []),
      ]);
  return {
    subject: subject.kind === 'person' ? members[0] : undefined,
    group: group && {
      ...group,
      member: group.member?.map((m) =>
        aliases.has(m.entity.reference ?? '')
          ? { ...m, entity: { ...m.entity, reference: aliases.get(m.entity.reference!) } }
          : m,
      ),
    },
    members,
    relatedPersons,
    consents: consents.map((c) => alignConsent(c, aliases)),
    conflicts,
    unsettled,
    gezagByRegistration: gezagHolders(related),
    registrations: refs,
    subjectRef:
      subject.kind === 'person' ? `Patient/${members[0]!.id}` : group ? `Group/${group.id}` : undefined,
  };
}
