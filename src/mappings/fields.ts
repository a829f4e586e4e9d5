// Field tables: each native field declared once, with its type, where it lives in FHIR, and the two functions that
// put it there and take it back. Schemas (ajv), CSV columns, both mapping directions and GET /mappings use them.
import type { Extension } from '@medplum/fhirtypes';

export type FieldType = 'string' | 'date' | 'boolean' | 'code' | 'bsn' | 'codes';

export interface Field<R> {
  /** The native name: JSON key and CSV column. */
  name: string;
  type: FieldType;
  required?: boolean;
  /** Allowed codes for `code` and `codes` fields. */
  codes?: readonly string[];
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

export const KP_EXT = 'https://ketenpoort.nl/fhir/StructureDefinition';

type WithExtensions = { extension?: Extension[] };

export function setExtension(target: WithExtensions, url: string, value: Omit<Extension, 'url'>): void {
  target.extension = [...(target.extension ?? []).filter((e) => e.url !== url), { url, ...value }];
}

export function getExtension(target: WithExtensions | undefined, url: string): Extension | undefined {
  return target?.extension?.find((e) => e.url === url);
}

/** A string field kept in an extension of the given resource. */
export function stringExtension<R extends WithExtensions>(
  name: string,
  slug: string,
  description: string,
  opts: { required?: boolean } = {},
): Field<R> {
  const url = `${KP_EXT}/${slug}`;
  return {
    name,
    type: 'string',
    ...opts,
    fhir: `extension(${url}).valueString`,
    description,
    put: (r, v: string) => setExtension(r, url, { valueString: v }),
    take: (r) => getExtension(r, url)?.valueString,
  };
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
      return { type: 'string', minLength: 1 };
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
      fhir: f.fhir,
      description: f.description,
    })),
  };
}
