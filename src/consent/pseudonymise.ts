// Pseudonymisation as an allow-list over the FHIR R4 element types: coded values pass, dates are coarsened, BSNs and
// references become keyed pseudonyms, and everything else (free text, narrative, identifiers, names, addresses,
// telecom, attachments, unlisted extensions) is dropped. The rules are data: profiles/rules/pseudonymisation.json.
import { createHmac } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { elementTable } from '../mappings/r4-tables.js';
import { readProfile } from './catalogue.js';
import { carriesBsn, codePasses, codingPasses } from './code-allowlist.js';
import { BSN_SYSTEM, PSEUDONYM_SYSTEM } from './constants.js';

type Precision = 'year' | 'month' | 'day';

/** Code elements that are judged together with their system (code-allowlist.ts). */
const CODED_WITH_SYSTEM = new Set(['Coding.code', 'Quantity.code']);

export interface PseudonymisationRules {
  /** Recipient roles that only ever receive pseudonymised data, whatever the basis. */
  recipientRoles: string[];
  /** Primitive types whose values pass unchanged. */
  passTypes: string[];
  /** Complex types dropped whole. */
  dropTypes: string[];
  /** uri elements that pass ("Coding.system"): they name code systems and profiles, not people. */
  uris: string[];
  datePrecision: { default: Precision; elements: Record<string, Precision> };
  /** Extensions (by url) that pass; their values are filtered like any element. */
  extensions: string[];
}

let rules: PseudonymisationRules | undefined;

/** The pseudonymisation rules from profiles/, read once per process. */
export function pseudonymisationRules(): PseudonymisationRules {
  rules ??= readProfile<PseudonymisationRules>('rules/pseudonymisation.json');
  return rules;
}

/** Whether everything delivered to a recipient of this role is pseudonymised, whatever the basis. */
export function receivesPseudonymsOnly(role: string | undefined): boolean {
  return role !== undefined && pseudonymisationRules().recipientRoles.includes(role);
}

export function pseudonym(bsn: string, key: string): string {
  return createHmac('sha256', key).update(bsn).digest('base64url').slice(0, 22);
}

/** A keyed pseudonym in UUID form, for resource ids and references (the prefix keeps them apart from BSN pseudonyms). */
function uuidPseudonym(value: string, key: string): string {
  const h = createHmac('sha256', key).update(`ref|${value}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

// ---- The element types of FHIR R4, from the table generated from the StructureDefinitions (profiles/r4/) ----

const PRIMITIVE = /^[a-z]/;

/** The definition of element `key` under `parent` (a path), with choice elements (value[x]) resolved to one type. */
function elementAt(
  parent: string,
  key: string,
): { path: string; type: string; children?: string } | undefined {
  const { elements } = elementTable();
  const direct = elements.get(`${parent}.${key}`);
  if (direct) return { path: `${parent}.${key}`, type: direct.types[0] ?? '', children: direct.children };
  for (let i = 1; i < key.length; i++) {
    if (key[i] !== key[i]!.toUpperCase() || key[i] === key[i]!.toLowerCase()) continue;
    const choice = elements.get(`${parent}.${key.slice(0, i)}[x]`);
    if (!choice) continue;
    const suffix = key.slice(i);
    const type = choice.types.find((t) => t.toLowerCase() === suffix.toLowerCase());
    if (type) return { path: `${parent}.${key.slice(0, i)}[x]`, type };
  }
  return undefined;
}

/** The path under which a complex type's elements are defined (SimpleQuantity → Quantity). */
function typePath(type: string): string {
  return elementTable().typeRoots.get(type) ?? type;
}

// ---- The walk ----

interface Walk {
  key: string;
  rules: PseudonymisationRules;
  /** Original reference or fullUrl → its pseudonymised form, for the resources of one Bundle. */
  aliases: Map<string, string>;
  /** The BSNs of the persons involved (the subject, the family, every BSN in the Bundle): never let through. */
  bsns: readonly string[];
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

function coarsen(value: unknown, precision: Precision): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{4})(-\d{2})?(-\d{2})?/.exec(value);
  if (!match) return undefined;
  if (precision === 'year') return match[1];
  if (precision === 'month') return match[1]! + (match[2] ?? '');
  return match[1]! + (match[2] ?? '') + (match[3] ?? '');
}

/** The pseudonymised form of a reference: a Bundle member's new fullUrl, else Type/pseudonym, else a urn:uuid. */
function pseudonymReference(reference: string, walk: Walk): string {
  const plain = reference.replace(/\/_history\/[^/]*$/, '');
  const alias = walk.aliases.get(plain);
  if (alias) return alias;
  if (plain.startsWith('#')) return `#${uuidPseudonym(plain, walk.key)}`;
  const typed = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(plain);
  if (typed) {
    const local = `${typed[1]}/${typed[2]}`;
    return walk.aliases.get(local) ?? `${typed[1]}/${uuidPseudonym(local, walk.key)}`;
  }
  return `urn:uuid:${uuidPseudonym(plain, walk.key)}`;
}

function pseudonymIdentifier(value: unknown, walk: Walk): unknown {
  const id = value as { system?: unknown; value?: unknown } | null;
  if (id && id.system === BSN_SYSTEM && typeof id.value === 'string')
    return { system: PSEUDONYM_SYSTEM, value: pseudonym(id.value, walk.key) };
  return undefined;
}

/** One value of a given FHIR type at `path`; undefined when nothing of it may pass. */
function typedValue(
  value: unknown,
  type: string,
  path: string,
  children: string | undefined,
  walk: Walk,
): unknown {
  if (Array.isArray(value)) {
    const kept = value.map((v) => typedValue(v, type, path, children, walk)).filter((v) => !isEmpty(v));
    return kept.length ? kept : undefined;
  }
  if (value === null || value === undefined) return undefined;
  const { rules } = walk;
  if (rules.passTypes.includes(type)) {
    if (typeof value === 'object' || carriesBsn(value, walk.bsns)) return undefined;
    // A Coding's or Quantity's code is judged with its system below; any other code must be one the gateway knows.
    if (type === 'code' && !CODED_WITH_SYSTEM.has(path) && !codePasses(value)) return undefined;
    return value;
  }
  if (type === 'date' || type === 'dateTime') {
    const resourcePath = path.replace(/\[x\]$/, type === 'dateTime' ? 'DateTime' : 'Date');
    const precision =
      rules.datePrecision.elements[resourcePath] ??
      rules.datePrecision.elements[path] ??
      rules.datePrecision.default;
    return coarsen(value, precision);
  }
  if (['uri', 'url', 'canonical'].includes(type))
    return rules.uris.includes(path) && typeof value === 'string' ? value : undefined;
  if (PRIMITIVE.test(type) || rules.dropTypes.includes(type) || typeof value !== 'object') return undefined;
  if (type === 'Identifier') return pseudonymIdentifier(value, walk);
  if (type === 'Resource') return resourceOf(value, walk, true);
  if (type === 'Extension') return extension(value, walk);
  const out = object(value as Record<string, unknown>, children ?? typePath(type), walk);
  if (type === 'Coding' && !codingPasses(out.system, out.code)) return undefined;
  if (type === 'Quantity' && out.code !== undefined && !codingPasses(out.system, out.code)) {
    delete out.code;
    delete out.system;
  }
  if (type === 'Reference') {
    const ref = (value as { reference?: unknown }).reference;
    if (typeof ref === 'string') out.reference = pseudonymReference(ref, walk);
  }
  return isEmpty(out) ? undefined : out;
}

/** The elements of an object whose definitions sit under `parent`; elements FHIR does not define are dropped. */
function object(value: Record<string, unknown>, parent: string, walk: Walk): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Primitive extensions (_birthDate) can carry anything: dropped.
    if (k.startsWith('_') || k === 'resourceType') continue;
    const element = elementAt(parent, k);
    if (!element) continue;
    const kept = typedValue(v, element.type, element.path, element.children, walk);
    if (!isEmpty(kept)) out[k] = kept;
  }
  return out;
}

function extension(value: unknown, walk: Walk): unknown {
  const url = (value as { url?: unknown }).url;
  if (typeof url !== 'string' || !walk.rules.extensions.includes(url)) return undefined;
  const inner = object(value as Record<string, unknown>, 'Extension', walk);
  return isEmpty(inner) ? undefined : { url, ...inner };
}

function resourceOf(value: unknown, walk: Walk, contained = false): Resource | undefined {
  const r = value as { resourceType?: unknown; id?: unknown } | null;
  if (!r || typeof r.resourceType !== 'string' || !elementTable().elements.has(`${r.resourceType}.id`))
    return undefined;
  const type = r.resourceType;
  const out = object(value as Record<string, unknown>, type, walk);
  delete out.id;
  const id =
    typeof r.id === 'string'
      ? contained
        ? uuidPseudonym(`#${r.id}`, walk.key)
        : (walk.aliases.get(`${type}/${r.id}`)?.replace(/^urn:uuid:/, '') ??
          uuidPseudonym(`${type}/${r.id}`, walk.key))
      : undefined;
  return { resourceType: type, ...(id ? { id } : {}), ...out } as Resource;
}

function walkOf(key: string, bsns: readonly string[], rulesOverride?: PseudonymisationRules): Walk {
  return { key, rules: rulesOverride ?? pseudonymisationRules(), aliases: new Map(), bsns };
}

/** Every BSN in a value (the `value` of an identifier with the BSN system, at any depth). */
function bsnsIn(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const v of value) bsnsIn(v, found);
  else if (value && typeof value === 'object') {
    const id = value as { system?: unknown; value?: unknown };
    if (id.system === BSN_SYSTEM && typeof id.value === 'string' && /^\d{9}$/.test(id.value))
      found.add(id.value);
    for (const v of Object.values(value)) bsnsIn(v, found);
  }
  return found;
}

/**
 * Pseudonymises a Bundle: each entry's resource through the allow-list, each member's fullUrl and id replaced by one
 * pseudonym that every reference to it (by fullUrl or by Type/id) is replaced by too. Of the Bundle itself only its
 * type, its security labels and its entries remain. No code or number that carries a BSN passes: one of `bsns` (the
 * persons the exchange is about) or of the Bundle's own BSN identifiers, or nine digits that pass the 11-test.
 */
export function pseudonymiseBundle(
  bundle: Bundle,
  key: string,
  rulesOverride?: PseudonymisationRules,
  bsns: readonly string[] = [],
): Bundle {
  const walk = walkOf(key, [...bsnsIn(bundle, new Set(bsns))], rulesOverride);
  const entries = (bundle.entry ?? []).filter(
    (e): e is BundleEntry & { resource: Resource } => !!e?.resource,
  );
  for (const e of entries) {
    const local = e.resource.id ? `${e.resource.resourceType}/${e.resource.id}` : undefined;
    const canonical = local ?? e.fullUrl;
    if (!canonical) continue;
    const fullUrl = `urn:uuid:${uuidPseudonym(canonical, key)}`;
    if (local) walk.aliases.set(local, fullUrl);
    if (e.fullUrl) walk.aliases.set(e.fullUrl.replace(/\/_history\/[^/]*$/, ''), fullUrl);
  }
  const out: Bundle = { resourceType: 'Bundle', type: bundle.type };
  const meta = typedValue(bundle.meta, 'Meta', 'Bundle.meta', undefined, walk);
  if (meta) out.meta = meta as Bundle['meta'];
  out.entry = entries.map((e) => {
    const resource = resourceOf(e.resource, walk)!;
    const local = e.resource.id ? `${e.resource.resourceType}/${e.resource.id}` : undefined;
    const fullUrl = walk.aliases.get(local ?? '') ?? (e.fullUrl ? walk.aliases.get(e.fullUrl) : undefined);
    if (fullUrl && !resource.id) resource.id = fullUrl.replace(/^urn:uuid:/, '');
    return fullUrl ? { fullUrl, resource } : { resource };
  });
  return out;
}
