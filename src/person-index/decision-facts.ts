// The facts decisions rest on, kept in memory per subject and per directory entry for one fact version
// (src/store/fact-version.ts), so that a decision about a person asked about before costs one shared version read
// instead of the facts' own reads. Correct across gateway processes: any committed change anywhere moves the version,
// and every lookup reads the version after it was asked. Kept facts are frozen: nothing may change what others share.
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

/** What a decision asks of the facts kept in memory: the subject's, and directory entries. */
export interface DecisionFactsSource {
  /** The subject's facts as now committed. */
  subject(subject: Subject): Promise<SubjectFacts>;
  /** A directory entry by a lookup key (`Organization|id|…`, `Endpoint|…`), as now committed; `load` reads it. */
  directory<T>(key: string, load: () => Promise<T>): Promise<T>;
}

export class DecisionFactsStore implements DecisionFactsSource {
  private readonly versions: FactVersionReader;
  private readonly subjects: FactsCache<SubjectFacts>;
  private readonly entries: FactsCache<unknown>;

  constructor(
    private readonly db: Queryable,
    opts: { maxSubjects?: number } = {},
  ) {
    this.versions = new FactVersionReader(db);
    this.subjects = new FactsCache(this.versions, opts.maxSubjects ?? 5_000);
    this.entries = new FactsCache(this.versions, 1_000);
  }

  subject(subject: Subject, version?: Promise<string>): Promise<SubjectFacts> {
    return this.subjects.get(
      `${subject.kind}|${subject.identifier.system}|${subject.value}`,
      async () => deepFreeze(await loadSubjectFacts(this.db, subject)),
      version,
    );
  }

  directory<T>(key: string, load: () => Promise<T>, version?: Promise<string>): Promise<T> {
    return this.entries.get(key, async () => deepFreeze(await load()), version) as Promise<T>;
  }

  /**
   * The facts for one request: the fact version is read once, at its first question (after the request arrived), and
   * every later question of the same request is answered as of that version.
   */
  view(): DecisionFactsSource {
    let version: Promise<string> | undefined;
    const asked = () => (version ??= this.versions.current());
    return {
      subject: (subject) => this.subject(subject, asked()),
      directory: (key, load) => this.directory(key, load, asked()),
    };
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
