// LEAP's XACML JSON endpoint: the same consult question in the XACML JSON profile's Request form
// (AccessSubject actor, Action category and purposeOfUse, Resource patientId). Schema written from LEAP's.
import type { Coding, Identifier } from '@medplum/fhirtypes';
import { Ajv } from 'ajv';
import { badRequest } from '../fhir/outcomes.js';
import { bounded, type ConsultQuestion } from './schema.js';

const identifiers = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    required: ['system', 'value'],
    properties: { system: { type: 'string' }, value: { type: 'string' } },
  },
};
/** An attribute list that contains the named attribute with a value of this schema. */
const holding = (id: string, value: object) => ({
  type: 'array',
  contains: {
    type: 'object',
    required: ['Attribute'],
    properties: {
      Attribute: {
        type: 'array',
        contains: {
          type: 'object',
          required: ['AttributeId', 'Value'],
          properties: { AttributeId: { const: id }, Value: value },
        },
      },
    },
  },
});
const schema = {
  type: 'object',
  required: ['Request'],
  properties: {
    Request: {
      type: 'object',
      required: ['AccessSubject', 'Action', 'Resource'],
      properties: {
        AccessSubject: holding('actor', identifiers),
        Action: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['Attribute'],
            properties: {
              Attribute: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['AttributeId', 'Value'],
                  properties: { AttributeId: { type: 'string' } },
                },
              },
            },
          },
        },
        Resource: holding('patientId', identifiers),
      },
    },
  },
};
const validate = new Ajv({ allErrors: true }).compile(schema);

interface Attribute {
  AttributeId: string;
  Value: unknown;
}
type Category = { Attribute?: Attribute[] }[];

function valueOf(categories: Category, id: string): unknown {
  for (const c of categories) for (const a of c.Attribute ?? []) if (a?.AttributeId === id) return a.Value;
  return undefined;
}

const strings = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');

/** Content classes (LEAP's README writes them with `value` where the hook has `code`: both are read). */
function classesOf(v: unknown): Coding[] {
  return (Array.isArray(v) ? v : []).flatMap((c: unknown) => {
    const x = c as { system?: unknown; code?: unknown; value?: unknown } | null;
    const code = typeof x?.code === 'string' ? x.code : typeof x?.value === 'string' ? x.value : undefined;
    return code ? [{ system: typeof x?.system === 'string' ? x.system : undefined, code }] : [];
  });
}

/** Reads an XACML JSON request into a consult question; 400 where it lacks actor, action or patientId. */
export function readXacml(body: unknown): ConsultQuestion {
  if (!validate(body)) {
    const text = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw badRequest(`Ongeldig XACML-verzoek / Invalid XACML request: ${text}`);
  }
  const r = (body as { Request: Record<string, Category> }).Request;
  const category = valueOf(r.Action!, 'category');
  const codings = (Array.isArray(category) ? category : []).filter(
    (c): c is Coding => !!c && typeof c === 'object' && typeof (c as Coding).code === 'string',
  );
  if (category !== undefined && codings.length === 0)
    throw badRequest(
      'category moet een lijst van codings zijn / category must be a list of codings',
      'Action',
    );
  return bounded({
    patientId: valueOf(r.Resource!, 'patientId') as Identifier[],
    actor: valueOf(r.AccessSubject!, 'actor') as Identifier[],
    purposes: strings(valueOf(r.Action!, 'purposeOfUse')),
    category: category === undefined ? undefined : codings.map((c) => ({ system: c.system, code: c.code })),
    classes: classesOf(valueOf(r.Resource!, 'class')),
    shape: 'leap',
  });
}
