// Classification of resources into data categories and sensitivity labels, from the security-labelling table in
// profiles/rules/classification.json: code sets → categories → labels. What the table cannot read is unknown content.
import type { Coding, Resource } from '@medplum/fhirtypes';
import { loadCatalogue, LIFE_DOMAIN_SYSTEM, readProfile, type Catalogue } from './catalogue.js';

/** The category of everything the table cannot classify: the most sensitive there is. */
export const UNKNOWN_CONTENT = 'unknown-content';
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const KETENPOORT_CODE_SYSTEMS = 'https://ketenpoort.nl/fhir/CodeSystem/';

export interface Classification {
  categories: string[];
  labels: Coding[];
  /** Categories that need explicit naming by the basis. */
  sensitive: string[];
  /** True when the table cannot tell what the resource holds; its categories are then `unknown-content` (and any its labels name). */
  unknown: boolean;
  /** Where the table gave up: the resource type without a row, or the element it could not read. */
  unknownAt?: string;
}

/** One row of code-set table: codes of these systems (exact, by prefix, or by a range of prefixes) → categories. */
interface CodeSet {
  display: string;
  system: string[];
  codes?: string[];
  prefixes?: string[];
  ranges?: [string, string][];
  categories: string[];
  /** Extra v3 ActCode sensitivity labels (HIV, STD) beyond those of the categories. */
  labels?: string[];
}

/** How one resource type is read. */
interface TypeRow {
  resourceType: string;
  categories: string[];
  read?: string[];
  require?: string[];
  textUnknown?: string[];
  opaque?: string[];
}

interface Compiled {
  rows: Map<string, TypeRow>;
  bySystem: Map<string, CodeSet[]>;
  /** v3 label code → the data category that carries it (PSY → mental-health). */
  labelCategory: Map<string, string>;
  /** system|code → what the code sets say of it (undefined: not known). */
  memo: Map<string, Hit | undefined>;
}

interface Hit {
  categories: string[];
  labels: string[];
}

const compiledFor = new WeakMap<Catalogue, Compiled>();

function compile(catalogue: Catalogue): Compiled {
  let c = compiledFor.get(catalogue);
  if (c) return c;
  const table = readProfile<{ rules: TypeRow[]; codeSets: CodeSet[] }>('rules/classification.json');
  const bySystem = new Map<string, CodeSet[]>();
  for (const set of table.codeSets)
    for (const system of set.system) bySystem.set(system, [...(bySystem.get(system) ?? []), set]);
  const labelCategory = new Map<string, string>();
  for (const [code, info] of catalogue.categories)
    for (const l of info.labels) if (l.code && !labelCategory.has(l.code)) labelCategory.set(l.code, code);
  c = {
    rows: new Map(table.rules.map((r) => [r.resourceType, r])),
    bySystem,
    labelCategory,
    memo: new Map(),
  };
  compiledFor.set(catalogue, c);
  return c;
}

function inSet(set: CodeSet, code: string): boolean {
  if (set.codes?.includes(code)) return true;
  if (set.prefixes?.some((p) => code.startsWith(p))) return true;
  return (set.ranges ?? []).some(([from, to]) => {
    const head = code.slice(0, from.length);
    return head >= from && head <= to;
  });
}

/** What the table knows of one coding: its categories and labels, or undefined when it does not know it. */
function lookup(coding: Coding, catalogue: Catalogue, table: Compiled): Hit | undefined {
  const { system, code } = coding;
  if (typeof system !== 'string' || typeof code !== 'string' || code === '') return undefined;
  const key = `${system}|${code}`;
  if (table.memo.has(key)) return table.memo.get(key);
  let hit: Hit | undefined;
  if (system === LIFE_DOMAIN_SYSTEM) {
    const category = catalogue.lifeDomains.get(code);
    hit = category ? { categories: [category], labels: [] } : undefined;
  } else if (system.startsWith(KETENPOORT_CODE_SYSTEMS)) {
    // The gateway's own CodeSystems carry no clinical meaning beyond the life domains; validation checks their codes.
    hit = { categories: [], labels: [] };
  } else {
    for (const set of table.bySystem.get(system) ?? []) {
      if (!inSet(set, code)) continue;
      hit ??= { categories: [], labels: [] };
      hit.categories.push(...set.categories);
      hit.labels.push(...(set.labels ?? []));
    }
  }
  if (table.memo.size > 50_000) table.memo.clear();
  table.memo.set(key, hit);
  return hit;
}

/** The values at a dotted path (arrays are walked through at every step). */
function valuesAt(value: unknown, steps: string[]): unknown[] {
  let current: unknown[] = [value];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (!v || typeof v !== 'object') continue;
      const child = (v as Record<string, unknown>)[step];
      if (Array.isArray(child)) next.push(...child);
      else if (child !== undefined && child !== null) next.push(child);
    }
    current = next;
  }
  return current;
}

/** The codings of one value: a CodeableConcept's, or a Coding itself. */
function codingsOf(value: unknown): Coding[] | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { coding?: unknown; system?: unknown; code?: unknown };
  if (Array.isArray(v.coding)) return v.coding.filter((c): c is Coding => !!c && typeof c === 'object');
  if (v.system !== undefined || v.code !== undefined) return [v as Coding];
  return undefined;
}

/** Every Coding anywhere in a value (iteratively, any depth), the resource's own security labels left out. */
function everyCoding(resource: Resource): Coding[] {
  const found: Coding[] = [];
  const stack: unknown[] = [resource];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.system === 'string' && typeof o.code === 'string') found.push(o as Coding);
      for (const [k, x] of Object.entries(o))
        if (x && typeof x === 'object' && !(v === resource && k === 'meta')) stack.push(x);
    }
  }
  const tags = resource.meta?.tag;
  if (Array.isArray(tags)) stack.push(...tags);
  while (stack.length) {
    const t = stack.pop() as Coding | undefined;
    if (t && typeof t.system === 'string' && typeof t.code === 'string') found.push(t);
  }
  return found;
}

function labelCoding(code: string, catalogue: Catalogue): Coding {
  for (const info of catalogue.categories.values()) {
    const found = info.labels.find((l) => l.code === code);
    if (found) return found;
  }
  return { system: ACT_CODE_SYSTEM, code };
}

/**
 * The data categories and sensitivity labels of one resource, read from its codes. A resource the table cannot
 * classify (no row for its type, a concept no code set knows, no code where one is required, opaque content) is
 * `unknown-content`. Pure apart from reading the table once; safe on any JSON.
 */
export function classify(resource: Resource, catalogue: Catalogue = loadCatalogue()): Classification {
  const table = compile(catalogue);
  const categories = new Set<string>();
  const extraLabels = new Set<string>();
  const row = table.rows.get(resource.resourceType);
  let unknownAt: string | undefined = row ? undefined : resource.resourceType;
  if (row) {
    row.categories.forEach((c) => categories.add(c));
    let required = !row.require?.length;
    for (const path of row.read ?? []) {
      for (const value of valuesAt(resource, path.split('.'))) {
        const codings = codingsOf(value);
        if (!codings?.length) {
          // Text alone is never read: where the element carries meaning, it is content the table cannot tell.
          if (row.textUnknown?.includes(path)) unknownAt ??= `${resource.resourceType}.${path}`;
          continue;
        }
        let known = false;
        for (const coding of codings) {
          const hit = lookup(coding, catalogue, table);
          if (!hit) continue;
          known = true;
          hit.categories.forEach((c) => categories.add(c));
          hit.labels.forEach((l) => extraLabels.add(l));
          if (hit.categories.length && row.require?.includes(path)) required = true;
        }
        if (!known) unknownAt ??= `${resource.resourceType}.${path}`;
      }
    }
    if (!required) unknownAt ??= `${resource.resourceType}.${row.require!.join('|')}`;
    for (const path of row.opaque ?? [])
      if (valuesAt(resource, [path]).length) unknownAt ??= `${resource.resourceType}.${path}`;
  }
  // A sensitive code counts wherever it stands: in a contained resource, an extension, a tag, an element the row
  // does not read. The row decides what a resource is; this sweep only ever adds sensitive categories.
  for (const coding of everyCoding(resource)) {
    const hit = lookup(coding, catalogue, table);
    if (!hit) continue;
    for (const c of hit.categories) if (catalogue.categories.get(c)?.sensitive) categories.add(c);
    if (hit.categories.some((c) => catalogue.categories.get(c)?.sensitive))
      hit.labels.forEach((l) => extraLabels.add(l));
  }
  // Labels the sender put on the resource count too: PSY on an Observation makes it mental-health data.
  const present: Coding[] = [...(Array.isArray(resource.meta?.security) ? resource.meta.security : [])];
  const docLabels = (resource as { securityLabel?: unknown }).securityLabel;
  if (Array.isArray(docLabels)) for (const cc of docLabels) present.push(...(codingsOf(cc) ?? []));
  const labelled = present.flatMap((l) => {
    const category = typeof l?.code === 'string' ? table.labelCategory.get(l.code) : undefined;
    return category ? [category] : [];
  });
  const unknown = unknownAt !== undefined;
  const result = unknown ? new Set([UNKNOWN_CONTENT, ...labelled]) : new Set([...categories, ...labelled]);
  const labels = new Map<string, Coding>();
  for (const c of result)
    for (const l of catalogue.categories.get(c)?.labels ?? []) labels.set(`${l.system}|${l.code}`, l);
  if (!unknown)
    for (const code of extraLabels) {
      const l = labelCoding(code, catalogue);
      labels.set(`${l.system}|${l.code}`, l);
    }
  for (const l of present)
    if (l && typeof l === 'object' && typeof l.code === 'string') labels.set(`${l.system}|${l.code}`, l);
  const sensitive = [...result].filter((c) => catalogue.categories.get(c)?.sensitive);
  return { categories: [...result], labels: [...labels.values()], sensitive, unknown, unknownAt };
}

/**
 * The resource types that can hold data of these categories: those whose row names one, and those that read codes
 * when the code sets (or the life domains) can yield one. A pull asks a source for exactly these types.
 */
export function typesHolding(categories: string[], catalogue: Catalogue = loadCatalogue()): string[] {
  const table = compile(catalogue);
  const fromCodes = new Set<string>([
    ...[...table.bySystem.values()].flat().flatMap((set) => set.categories),
    ...catalogue.lifeDomains.values(),
  ]);
  const viaCodes = categories.some((c) => fromCodes.has(c));
  return [...table.rows.values()]
    .filter((row) => row.categories.some((c) => categories.includes(c)) || (viaCodes && row.read?.length))
    .map((row) => row.resourceType);
}

/**
 * What a decision weighs for a classified resource. Unknown content could be anything, so it is decided as data of
 * every category at once, each needing to be named (with every label the table knows): it passes only a basis that
 * names all data categories, `unknown-content` among them, and any deny of a category or label removes it.
 */
export function decisionData(
  cls: Classification,
  catalogue: Catalogue = loadCatalogue(),
): { categories: string[]; labels: Coding[]; sensitive: string[] } {
  if (!cls.unknown) return { categories: cls.categories, labels: cls.labels, sensitive: cls.sensitive };
  const labels = new Map(cls.labels.map((l) => [`${l.system}|${l.code}`, l]));
  const sensitive = new Set([UNKNOWN_CONTENT, ...cls.categories]);
  for (const [code, info] of catalogue.categories) {
    sensitive.add(code);
    for (const l of info.labels) labels.set(`${l.system}|${l.code}`, l);
  }
  // And every finer label a code set can give (HIV, STD): a deny of any of them removes it too.
  for (const set of [...compile(catalogue).bySystem.values()].flat())
    for (const code of set.labels ?? []) {
      const l = labelCoding(code, catalogue);
      labels.set(`${l.system}|${l.code}`, l);
    }
  return { categories: [...sensitive], labels: [...labels.values()], sensitive: [...sensitive] };
}
