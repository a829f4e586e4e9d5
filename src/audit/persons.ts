// Whose data an audit event concerns: every person named by BSN, also when the request named a family, a parent's
// registration, a Consent or a Task, so that each person's access report finds it.
import type { AuditEvent, AuditEventEntity, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { BSN_SYSTEM } from '../store/resources.js';
import type { AuditIndex } from './audit-index.js';

/** A person an event concerns: the BSN where known, and a reference the BSN can be found by. */
export interface AuditPerson {
  bsn?: string;
  reference?: string;
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
// Defensive: records stored by older releases may hold nulls where R4 has objects.
const bsnIn = (identifiers: ({ system?: string; value?: string } | null)[] | undefined) => {
  const value = (Array.isArray(identifiers) ? identifiers : []).find((i) => i?.system === BSN_SYSTEM)?.value;
  return typeof value === 'string' ? value : undefined;
};

/**
 * The persons a resource of the person index or a Task concerns: a Patient itself; a parent (RelatedPerson) and the
 * child it is registered for; the person of a Consent; each member of a family Group; the person or family a Task is
 * for, and through the Task those a notice (Communication) is about. References without a BSN are resolved when the
 * event is written (attributePersons).
 */
export function personsIn(resource: Resource): AuditPerson[] {
  const ref = `${resource.resourceType}/${resource.id}`;
  switch (resource.resourceType) {
    case 'Patient':
      return [{ bsn: bsnIn(resource.identifier), reference: ref }];
    case 'RelatedPerson':
      return [
        { bsn: bsnIn(resource.identifier), reference: ref },
        { reference: text(resource.patient?.reference) },
      ];
    case 'Consent':
      return [{ reference: text(resource.patient?.reference) }];
    case 'Group':
      return [{ reference: ref }];
    case 'Task': {
      const bsn = bsnIn(resource.for?.identifier ? [resource.for.identifier] : undefined);
      return [{ bsn, reference: text(resource.for?.reference) }];
    }
    case 'Communication':
      // A notice about a delivery concerns the person the delivery Task is for.
      return (Array.isArray(resource.about) ? resource.about : []).map((a) => ({
        reference: text(a?.reference),
      }));
    default:
      return [];
  }
}

const PERSON_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
export const isPersonEntity = (e: AuditEventEntity) => e.role?.system === PERSON_ROLE && e.role.code === '1';

/** The AuditEvent entity of a person (IHE BALP: type Person, role Patient). */
export function personEntity(person: AuditPerson): AuditEventEntity {
  return {
    what: {
      reference: person.reference,
      identifier: person.bsn ? { system: BSN_SYSTEM, value: person.bsn } : undefined,
    },
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
    role: { system: PERSON_ROLE, code: '1', display: 'Patient' },
  };
}

/** The persons of an event, each once: by BSN where known, else by reference. */
export function distinctPersons(persons: (AuditPerson | undefined)[]): AuditPerson[] {
  const seen = new Set<string>();
  const out: AuditPerson[] = [];
  for (const p of persons) {
    if (!p || (!p.bsn && !p.reference)) continue;
    const byBsn = p.bsn ? `bsn:${p.bsn}` : undefined;
    const byRef = p.reference ? `ref:${p.reference}` : undefined;
    if ((byBsn && seen.has(byBsn)) || (!byBsn && byRef && seen.has(byRef))) continue;
    if (byBsn) seen.add(byBsn);
    if (byRef) seen.add(byRef);
    out.push(p);
  }
  return out;
}

/** The index columns of the persons: the first BSN, and every BSN when there are several. */
export function personIndex(persons: AuditPerson[]): Pick<AuditIndex, 'patient' | 'patients'> {
  const bsns = [...new Set(persons.flatMap((p) => (p.bsn ? [p.bsn] : [])))];
  return { patient: bsns[0], patients: bsns.length > 1 ? bsns : undefined };
}

type Row = { type: string; id: string; content: Resource };

/** Reads resources by reference, in one statement. */
async function readAll(db: Queryable, refs: string[]): Promise<Map<string, Resource>> {
  const pairs = refs.flatMap((r) => {
    const [type, id] = r.split('/');
    return type && id && !r.includes('/', type.length + 1) ? [[type, id] as const] : [];
  });
  if (pairs.length === 0) return new Map();
  const rows = await db.query<Row>(
    `SELECT r.type, r.id, r.content FROM resources r
     JOIN unnest($1::text[], $2::text[]) AS k(type, id) ON r.type = k.type AND r.id = k.id`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
  return new Map(rows.map((r) => [`${r.type}/${r.id}`, r.content]));
}

/** The persons behind a reference: a Patient's or a parent's BSN, a family's members, the subject of a Task. */
async function resolve(db: Queryable, refs: string[]): Promise<Map<string, AuditPerson[]>> {
  const found = new Map<string, AuditPerson[]>();
  let pending = new Map(refs.map((r) => [r, [r]]));
  // Three rounds at most: a Task for a family, the family's members, their BSNs.
  for (let round = 0; round < 3 && pending.size > 0; round++) {
    const wanted = [...new Set([...pending.values()].flat())];
    const resources = await readAll(db, wanted);
    const next = new Map<string, string[]>();
    for (const [origin, targets] of pending) {
      for (const target of targets) {
        const resource = resources.get(target);
        if (!resource) continue;
        const persons: AuditPerson[] =
          resource.resourceType === 'Group'
            ? (Array.isArray(resource.member) ? resource.member : []).flatMap((m) => {
                const reference = m?.entity?.reference;
                return !m?.inactive &&
                  typeof reference === 'string' &&
                  /^(Patient|RelatedPerson)\//.test(reference)
                  ? [{ reference }]
                  : [];
              })
            : personsIn(resource);
        for (const p of persons) {
          if (p.bsn) found.set(origin, [...(found.get(origin) ?? []), p]);
          else if (p.reference && p.reference !== target)
            next.set(origin, [...(next.get(origin) ?? []), p.reference]);
        }
      }
    }
    pending = next;
  }
  return found;
}

/**
 * Completes the persons of events about to be written: a person entity that names only a reference (a family Group,
 * a parent's registration, a Task, a Patient without its BSN) is given the BSN of every person behind it, and the
 * index columns are set from the result. Events that already name each person by BSN cost nothing.
 */
export async function attributePersons(
  db: Queryable,
  items: { event: AuditEvent; index: AuditIndex }[],
): Promise<void> {
  const open = items.flatMap((item) =>
    (item.event.entity ?? []).filter((e) => isPersonEntity(e) && !e.what?.identifier && e.what?.reference),
  );
  if (open.length === 0) return;
  const resolved = await resolve(db, [...new Set(open.map((e) => e.what!.reference!))]);
  for (const item of items) {
    const entities = item.event.entity ?? [];
    if (!entities.some((e) => open.includes(e))) continue;
    const persons: AuditPerson[] = [];
    const rest: AuditEventEntity[] = [];
    for (const e of entities) {
      if (!isPersonEntity(e)) {
        rest.push(e);
        continue;
      }
      const reference = e.what?.reference;
      const bsn = e.what?.identifier?.value;
      const behind = !bsn && reference ? resolved.get(reference) : undefined;
      if (!behind?.length) persons.push({ bsn, reference });
      else if (reference?.startsWith('Patient/') && behind.length === 1)
        persons.push({ bsn: behind[0]!.bsn, reference });
      else persons.push({ reference }, ...behind);
    }
    const all = distinctPersons(persons);
    item.event.entity = [...all.map(personEntity), ...rest];
    Object.assign(item.index, personIndex(all));
  }
}
