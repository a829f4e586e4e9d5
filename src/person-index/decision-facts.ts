// The facts decisions rest on, kept in memory per subject and per directory entry for one fact version
// (src/store/fact-version.ts), so that a decision about a person asked about before costs one shared version read
// instead of the facts' own reads. Correct across gateway processes: any committed change anywhere moves the version,
// and every lookup reads the version after it was asked. Kept facts are frozen: nothing may change what others share.
import type { Organization } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { FactVersionReader } from '../store/fact-version.js';
import { ownersOf } from '../store/resources.js';
import { FactsCache } from './facts-cache.js';
import { loadFacts, type LoadedFacts, type Subject } from './facts.js';

/** The facts of a subject with, per registration and consent (`Patient/<id>`, `Consent/<id>`), who registered it. */
export interface SubjectFacts {
  facts: LoadedFacts;
  owners: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Loads a subject's facts and their registering organisations straight from the store (as of now, or a moment). */
export async function loadSubjectFacts(db: Queryable, subject: Subject, asOf?: Date): Promise<SubjectFacts> {
  const facts = await loadFacts(db, subject, asOf);
  const refs = [...facts.registrations, ...facts.consents.flatMap((c) => (c.id ? [`Consent/${c.id}`] : []))];
  return { facts, owners: await ownersOf(db, refs) };
}

/** Whether `org` registered any of these (`Type/id`) itself. */
export function ownsAny(known: SubjectFacts, refs: string[], org: string): boolean {
  return refs.some((r) => known.owners.get(r)?.has(org));
}

/** The first (by id) of the subject's registrations that `org` made itself: its id. */
export function ownRegistration(known: SubjectFacts, org: string): string | undefined {
  return known.facts.registrations
    .filter((r) => known.owners.get(r)?.has(org))
    .map((r) => r.slice(r.indexOf('/') + 1))
    .sort()[0];
}

export class DecisionFactsStore {
  private readonly subjects: FactsCache<SubjectFacts>;
  private readonly directory: FactsCache<Organization | undefined>;

  constructor(
    private readonly db: Queryable,
    opts: { maxSubjects?: number } = {},
  ) {
    const versions = new FactVersionReader(db);
    this.subjects = new FactsCache(versions, opts.maxSubjects ?? 5_000);
    this.directory = new FactsCache(versions, 1_000);
  }

  /** The subject's facts as now committed. */
  subject(subject: Subject): Promise<SubjectFacts> {
    return this.subjects.get(`${subject.kind}|${subject.identifier.system}|${subject.value}`, async () =>
      deepFreeze(await loadSubjectFacts(this.db, subject)),
    );
  }

  /** A directory Organization by a lookup key (`id|…` or `identifier|system|value`), as now committed. */
  organization(
    key: string,
    load: () => Promise<Organization | undefined>,
  ): Promise<Organization | undefined> {
    return this.directory.get(key, async () => deepFreeze(await load()));
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map)
      for (const [k, v] of value) {
        deepFreeze(k);
        deepFreeze(v);
      }
    else if (value instanceof Set) for (const v of value) deepFreeze(v);
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
