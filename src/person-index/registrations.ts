// One person, several registrations: merges what each organisation registered about a BSN into the facts of a decision.
//
// Every organisation keeps its own registration of a person (its own Patient, the parents it knows as RelatedPersons
// of that Patient, its own family Group). Decisions rely on all of them together: the union of the parents and
// consents, one birth date. Where registrations disagree on a fact that a decision relies on, the fact is in dispute
// and the decision fails closed until a privacy officer has settled it.
import type { Consent, Group, Patient, Reference, RelatedPerson } from '@medplum/fhirtypes';
import { BSN_SYSTEM, PARENTAL_AUTHORITY_URL } from '../consent/constants.js';
import type { DisputedFact } from '../consent/types.js';

/** A fact that registrations of one person disagree on. */
export interface FactConflict {
  /** `birthDate`, `parentalAuthority` or `family`. */
  fact: DisputedFact;
  /** Whom the fact is about: the person's BSN (for parental authority the parent's), or the family identifier. */
  about: string;
  /** The values registered, one per registration, as `Type/id: value`. */
  values: string[];
}

export interface MergedPerson {
  /** The registration that stands for the person in the decision (the earliest). */
  patient: Patient;
  /** Every registration's reference → the merged one's. */
  aliases: Map<string, string>;
}

function bsnOf(resource: { identifier?: { system?: string; value?: string }[] }): string | undefined {
  return resource.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
}

function authorityOf(person: RelatedPerson): boolean | undefined {
  const ext = (person.extension ?? []).find((e) => e.url === PARENTAL_AUTHORITY_URL);
  return typeof ext?.valueBoolean === 'boolean' ? ext.valueBoolean : undefined;
}

function distinct(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
}

/**
 * Merges the registrations of one BSN. The earliest registration stands for the person; a birth date registered by
 * one organisation fills a gap in another's; two different birth dates are a conflict.
 */
export function mergePerson(
  registrations: Patient[],
  bsn: string,
): { merged?: MergedPerson; conflicts: FactConflict[] } {
  const [first] = registrations;
  if (!first) return { conflicts: [] };
  const births = distinct(registrations.map((p) => p.birthDate));
  const conflicts: FactConflict[] =
    births.length > 1
      ? [
          {
            fact: 'birthDate',
            about: bsn,
            values: registrations.map((p) => `Patient/${p.id}: ${p.birthDate ?? '-'}`),
          },
        ]
      : [];
  const patient: Patient = births[0] && !first.birthDate ? { ...first, birthDate: births[0] } : first;
  const canonical = `Patient/${first.id}`;
  return {
    merged: { patient, aliases: new Map(registrations.map((p) => [`Patient/${p.id}`, canonical])) },
    conflicts,
  };
}

/**
 * Merges the parents registered for one person across registrations: one RelatedPerson per parent BSN (parents
 * without a BSN stay as they are), each pointing at the merged Patient. A parent with and without parental authority
 * in two registrations is a conflict. Returns the parents and every parent reference → the merged one's.
 */
export function mergeParents(
  related: RelatedPerson[],
  person: MergedPerson,
): { parents: RelatedPerson[]; aliases: Map<string, string>; conflicts: FactConflict[] } {
  const target = `Patient/${person.patient.id}`;
  const byBsn = new Map<string, RelatedPerson[]>();
  const parents: RelatedPerson[] = [];
  const aliases = new Map<string, string>();
  for (const r of related) {
    if (!person.aliases.has(r.patient?.reference ?? '')) continue;
    const bsn = bsnOf(r);
    if (!bsn) {
      parents.push({ ...r, patient: { ...r.patient, reference: target } });
      aliases.set(`RelatedPerson/${r.id}`, `RelatedPerson/${r.id}`);
      continue;
    }
    byBsn.set(bsn, [...(byBsn.get(bsn) ?? []), r]);
  }
  const conflicts: FactConflict[] = [];
  for (const [bsn, group] of byBsn) {
    const first = group[0]!;
    const authorities = new Set(group.map(authorityOf).filter((a) => a !== undefined));
    if (authorities.size > 1) {
      conflicts.push({
        fact: 'parentalAuthority',
        about: bsn,
        values: group.map((r) => `RelatedPerson/${r.id}: ${authorityOf(r) ?? '-'}`),
      });
    }
    parents.push({ ...first, patient: { ...first.patient, reference: target } });
    for (const r of group) aliases.set(`RelatedPerson/${r.id}`, `RelatedPerson/${first.id}`);
  }
  return { parents, aliases, conflicts };
}

/** A consent of any registration, pointing at the merged Patient and naming its performers by their merged references. */
export function alignConsent(consent: Consent, aliases: Map<string, string>): Consent {
  // A consent stored malformed (a null performer) is left as it is: the engine reports it as unevaluable.
  const align = <T extends Reference>(ref: T): T =>
    ref && typeof ref.reference === 'string' && aliases.has(ref.reference)
      ? { ...ref, reference: aliases.get(ref.reference) }
      : ref;
  return {
    ...consent,
    patient:
      consent.patient && typeof consent.patient === 'object' ? align(consent.patient) : consent.patient,
    performer: Array.isArray(consent.performer) ? consent.performer.map(align) : consent.performer,
  };
}

/**
 * The family as every organisation registered it: the BSNs of the active members of each Group. Registrations that
 * name different members are a conflict; the members of the earliest Group are the family.
 */
export function familyConflict(
  groups: Group[],
  membersOf: (group: Group) => string[],
  familyId: string,
): FactConflict[] {
  const sets = groups.map((g) => [...new Set(membersOf(g))].sort().join(','));
  return new Set(sets).size > 1
    ? [{ fact: 'family', about: familyId, values: groups.map((g, i) => `Group/${g.id}: ${sets[i] || '-'}`) }]
    : [];
}

/** Per child registration (`Patient/<id>`), the BSNs of the parents it names with parental authority. */
export function gezagHolders(related: RelatedPerson[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of related) {
    const child = r.patient?.reference;
    const bsn = bsnOf(r);
    if (!child || !bsn || authorityOf(r) !== true) continue;
    out.set(child, (out.get(child) ?? new Set()).add(bsn));
  }
  return out;
}

/**
 * Whether the registrations agree that this BSN holds parental authority: named so by at least one, and by every
 * registration that names any parent with authority. One organisation's claim alone cannot open a child's data to a
 * stranger while another organisation registered other parents.
 */
export function gezagAgreed(holders: Map<string, Set<string>>, bsn: string): boolean {
  const lists = [...holders.values()];
  return lists.length > 0 && lists.every((l) => l.has(bsn));
}
