// Facts kept in memory between decisions, valid for one fact version (src/store/fact-version.ts). Every lookup reads
// the version first (a read shared with the callers waiting at the same moment); an entry made under another
// version is loaded again. The version is read before the facts are, so an entry is never newer-labelled than what it
// holds: a change committed during a load makes the next lookup load again, never keeps old facts.
import type { FactVersionReader } from '../store/fact-version.js';

interface Entry<T> {
  version: string;
  value: Promise<T>;
}

export class FactsCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** `max` bounds the entries kept (least recently used go first). */
  constructor(
    private readonly versions: FactVersionReader,
    private readonly max = 5_000,
  ) {}

  /**
   * The value for `key` as of a fact version read after this call (or the one given: a request that asks several
   * things reads the version once); `load` runs only when none is kept for it.
   */
  async get(
    key: string,
    load: () => Promise<T>,
    asked: Promise<string> = this.versions.current(),
  ): Promise<T> {
    const version = await asked;
    const kept = this.entries.get(key);
    if (kept && kept.version === version) {
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept.value;
    }
    // Callers asking for the same key under the same version share one load; a failed load is not kept.
    const value = load();
    const entry = { version, value };
    this.entries.delete(key);
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
