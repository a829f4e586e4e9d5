// Field tables: each native field declared once, with its type, where it lives in FHIR, and the two functions that
// put it there and take it back. Schemas (ajv), CSV columns, both mapping directions and GET /mappings use them.
import { PROFILE_BASE } from './profiles.js';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type {
  Bundle,
  BundleEntry,
  Extension,
  HumanName,
  Identifier,
  OperationOutcomeIssue,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import { BSN_SYSTEM } from '../consent/constants.js';

export type FieldType = 'string' | 'date' | 'boolean' | 'code' | 'bsn' | 'codes';

export interface Field<R> {
  /** The native name: JSON key and CSV column. */
  name: string;
  type: FieldType;
  required?: boolean;
  /** Allowed codes for `code` and `codes` fields. */
  codes?: readonly string[];
  /** A date that may lie in the future (an end date, a deadline). */
  future?: boolean;
  /** A regular expression a string field must match. */
  pattern?: string;
  /** Where the value lives in FHIR (documentation). */
  fhir: string;
  description: string;
  put(resource: R, value: never): void;
  take(resource: R): unknown;
}

/** A group of fields that maps onto one FHIR resource (or a few that belong together). */
export interface Entity<R> {
  name: string;
  /** How many the native record may hold ('one' or 'many'). */
  cardinality: 'one' | 'many';
  resource: string;
  fields: Field<R>[];
}

export const KP_EXT = PROFILE_BASE;

type WithExtensions = { extension?: Extension[] };

export function setExtension(target: WithExtensions, url: string, value: Omit<Extension, 'url'>): void {
  target.extension = [...(target.extension ?? []).filter((e) => e.url !== url), { url, ...value }];
}

export function getExtension(target: WithExtensions | undefined, url: string): Extension | undefined {
  return target?.extension?.find((e) => e.url === url);
}

/** How a field is checked: required, its codes, a future date, a pattern (the Field members of the same names). */
export type FieldRules = Pick<Field<unknown>, 'required' | 'codes' | 'future' | 'pattern'>;

/** A field kept as one element of the resource (or part) `on` finds: `ServiceRequest.authoredOn`, `Patient.gender`. */
export function elementField<R, T, K extends keyof T>(
  name: string,
  type: FieldType,
  on: (r: R) => T,
  key: K,
  fhir: string,
  description: string,
  rules: FieldRules = {},
): Field<R> {
  return {
    name,
    type,
    ...rules,
    fhir,
    description,
    put: (r, v: T[K]) => void (on(r)[key] = v),
    take: (r) => on(r)[key],
  };
}

/**
 * A field kept as one member of a complex element of what `on` finds (`ServiceRequest.requester.display`,
 * `EpisodeOfCare.period.start`); writing it keeps the element's other members.
 */
export function memberField<R, T, K extends keyof T>(
  name: string,
  type: FieldType,
  on: (r: R) => T,
  key: K,
  member: keyof NonNullable<T[K]>,
  fhir: string,
  description: string,
  rules: FieldRules = {},
): Field<R> {
  return {
    ...elementField(name, type, on, key, fhir, description, rules),
    put: (r, v: string) => void (on(r)[key] = { ...on(r)[key], [member]: v } as T[K]),
    take: (r) => on(r)[key]?.[member],
  };
}

type ExtensionValue = 'valueString' | 'valueCode' | 'valueBoolean';
const VALUE_TYPES: Record<ExtensionValue, FieldType> = {
  valueString: 'string',
  valueCode: 'code',
  valueBoolean: 'boolean',
};

/**
 * A field kept in a Ketenpoort extension (`${KP_EXT}/slug`) of what `on` finds; `fhir` names that element in the
 * field tables (empty for the resource itself).
 */
export function extensionField<R>(
  name: string,
  value: ExtensionValue,
  slug: string,
  on: (r: R) => WithExtensions,
  fhir: string,
  description: string,
  rules: FieldRules = {},
): Field<R> {
  const url = `${KP_EXT}/${slug}`;
  return {
    name,
    type: VALUE_TYPES[value],
    ...rules,
    fhir: `${fhir}${fhir ? '.' : ''}extension(${url}).${value}`,
    description,
    put: (r, v: string | boolean) => setExtension(on(r), url, { [value]: v }),
    take: (r) => getExtension(on(r), url)?.[value],
  };
}

/** A string field kept in an extension of the given resource. */
export function stringExtension<R extends WithExtensions>(
  name: string,
  slug: string,
  description: string,
  opts: { required?: boolean } = {},
): Field<R> {
  return extensionField<R>(name, 'valueString', slug, (r) => r, '', description, opts);
}

/** The JSON Schema (draft 2020-12 subset that ajv checks) of one entity's native record. */
export function entitySchema(entity: Entity<unknown>): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const f of entity.fields) properties[f.name] = fieldSchema(f);
  return {
    type: 'object',
    additionalProperties: false,
    required: entity.fields.filter((f) => f.required).map((f) => f.name),
    properties,
  };
}

function fieldSchema(f: Field<unknown>): Record<string, unknown> {
  switch (f.type) {
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };
    case 'bsn':
      return { type: 'string', pattern: '^\\d{9}$' };
    case 'code':
      return f.codes ? { type: 'string', enum: [...f.codes] } : { type: 'string', minLength: 1 };
    case 'codes':
      return {
        type: 'array',
        items: f.codes ? { type: 'string', enum: [...f.codes] } : { type: 'string' },
        uniqueItems: true,
      };
    default:
      return f.pattern ? { type: 'string', pattern: f.pattern } : { type: 'string', minLength: 1 };
  }
}

/** Field tables as data: what GET /mappings answers and the docs show. */
export function describeEntity(entity: Entity<unknown>) {
  return {
    name: entity.name,
    cardinality: entity.cardinality,
    resource: entity.resource,
    fields: entity.fields.map((f) => ({
      name: f.name,
      type: f.type,
      required: !!f.required,
      ...(f.codes ? { codes: [...f.codes] } : {}),
      ...(f.pattern ? { pattern: f.pattern } : {}),
      fhir: f.fhir,
      description: f.description,
    })),
  };
}

const ajv = new Ajv2020({ allErrors: true, strict: true });

export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  return ajv.compile(schema);
}

export function invalid(expression: string, diagnostics: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'invalid', diagnostics, expression: [expression] };
}

/** A full date (YYYY-MM-DD) that exists in the calendar: not 2023-02-30, not 2023-02. */
export function isCalendarDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** A native record: field name → value. */
export type NativeRecord = Record<string, unknown>;

/** A collection Bundle of these entries: what a mapping to FHIR answers. */
export function collection(entry: BundleEntry[]): Bundle {
  return { resourceType: 'Bundle', type: 'collection', entry };
}

/** A stable urn:uuid for a part of a native record, so that the same record always maps to the same Bundle. */
export function urn(referralId: string, part: string): string {
  const h = createHash('sha256').update(`${referralId}/${part}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function apply<R>(entity: Entity<R>, record: NativeRecord, target: R): void {
  for (const f of entity.fields) {
    const v = record[f.name];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) f.put(target, v as never);
  }
}

export function read<R>(entity: Entity<R>, source: R): NativeRecord {
  const out: NativeRecord = {};
  for (const f of entity.fields) {
    const v = f.take(source);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

/** A warning for something of a Bundle that the native format has no place for. */
export function unmapped(expression: string, text: string): OperationOutcomeIssue {
  return { severity: 'warning', code: 'informational', diagnostics: text, expression: [expression] };
}

/** A Bundle that cannot be mapped back at all (its parts are missing or do not hang together), at `expression`. */
export class MappingError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
  }
}

/** Warnings for the Bundle entries a mapping did not use. */
export function unusedEntries(
  entries: BundleEntry[],
  used: Set<Resource | undefined>,
  what: string,
): OperationOutcomeIssue[] {
  return entries
    .filter((e) => e.resource && !used.has(e.resource))
    .map((e) =>
      unmapped(
        `Bundle.entry(${e.fullUrl ?? e.resource!.resourceType})`,
        `the ${what} has no place for this ${e.resource!.resourceType}`,
      ),
    );
}

/** A field kept as the identifier of one system on a resource (a BSN, an AGB code, a record number). */
export function identifierField<R>(
  name: string,
  type: 'string' | 'bsn',
  system: string,
  on: (r: R) => { identifier?: Identifier[] },
  fhir: string,
  description: string,
  opts: { required?: boolean; pattern?: string } = {},
): Field<R> {
  return {
    name,
    type,
    ...opts,
    fhir: `${fhir}.identifier (${system})`,
    description,
    put: (r, v: string) => {
      const target = on(r);
      target.identifier = [
        ...(target.identifier ?? []).filter((i) => i.system !== system),
        { system, value: v },
      ];
    },
    take: (r) => on(r).identifier?.find((i) => i.system === system)?.value,
  };
}

/** The client's BSN, on the Patient of a record's parts (youth-care registration, municipal case). */
export function clientBsnField<R extends { patient: Patient }>(name: string): Field<R> {
  return identifierField<R>(
    name,
    'bsn',
    BSN_SYSTEM,
    (r) => r.patient,
    'Patient',
    'BSN of the client (11-test checked)',
    {
      required: true,
    },
  );
}

/** A person field of the client, on the Patient of a record's parts (youth-care registration, municipal case). */
export function clientField<R extends { patient: Patient }>(
  part: 'family' | 'given' | 'birthDate',
  name: string,
  description: string,
  required = false,
): Field<R> {
  return personField<R>(part, name, (r) => r.patient, 'Patient', description, required);
}

type Named = { name?: HumanName[]; birthDate?: string };

/** The person fields every format has: family name, call name and birth date, on the person `on` finds. */
export function personField<R>(
  part: 'family' | 'given' | 'birthDate',
  name: string,
  on: (r: R) => Named,
  fhir: string,
  description: string,
  required = false,
): Field<R> {
  const first = (r: R) => (on(r).name ??= [{}])[0] as HumanName;
  const parts = {
    family: {
      type: 'string' as const,
      path: 'name[0].family',
      put: (r: R, v: string) => void (first(r).family = v),
      take: (r: R) => on(r).name?.[0]?.family,
    },
    given: {
      type: 'string' as const,
      path: 'name[0].given[0]',
      put: (r: R, v: string) => void (first(r).given = [v]),
      take: (r: R) => on(r).name?.[0]?.given?.[0],
    },
    birthDate: {
      type: 'date' as const,
      path: 'birthDate',
      put: (r: R, v: string) => void (on(r).birthDate = v),
      take: (r: R) => on(r).birthDate,
    },
  };
  const p = parts[part];
  return {
    name,
    type: p.type,
    required,
    fhir: `${fhir}${fhir ? '.' : ''}${p.path}`,
    description,
    put: p.put,
    take: p.take,
  };
}

/** A list of sub-records in a native record (parents, children, goals, assignments). */
export interface ListSpec {
  entity: Entity<never>;
  /** The record must hold the list (with at least minItems entries). */
  required?: boolean;
  minItems?: number;
  maxItems?: number;
}
