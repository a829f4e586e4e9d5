// The patient-consent-consult request as LEAP (sdhealthconnect/leap-cds) defines it, and Ketenpoort's older shape
// (with `scope`) as an alias; both read into one question. Schemas written from LEAP's published request schema.
import type { Bundle, Coding, Identifier } from '@medplum/fhirtypes';
import { Ajv, type ErrorObject } from 'ajv';
import { CONSENT_SCOPE_SYSTEM } from '../consent/consent-scope.js';
import { badRequest } from '../fhir/outcomes.js';

export const CONSULT_HOOK = 'patient-consent-consult';
export const LABEL_HOOK = 'bundle-security-label';

const identifier = {
  type: 'object',
  additionalProperties: false,
  required: ['value'],
  properties: { system: { type: 'string' }, value: { type: 'string' } },
};
const coding = {
  type: 'object',
  additionalProperties: false,
  required: ['system', 'code'],
  properties: { system: { type: 'string' }, code: { type: 'string' } },
};
/** A Bundle whose entries each carry a resource with a resourceType (what LEAP checks of `content`). */
export const bundleSchema = {
  type: 'object',
  required: ['resourceType', 'entry'],
  properties: {
    resourceType: { type: 'string', pattern: 'Bundle' },
    entry: {
      type: 'array',
      items: {
        type: 'object',
        required: ['resource'],
        properties: {
          resource: {
            type: 'object',
            required: ['resourceType'],
            properties: { resourceType: { type: 'string' } },
          },
        },
      },
    },
  },
};
const purposeOfUse = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

/** A LEAP hook request: the hook (matching `hook`), its hookInstance and this context, all required. */
const hookRequest = (hook: string, context: Record<string, unknown>) => ({
  type: 'object',
  required: ['hook', 'hookInstance', 'context'],
  properties: { hook: { type: 'string', pattern: hook }, hookInstance: { type: 'string' }, context },
});

/** LEAP's request: no context fields beyond these six; patientId and actor required; hookInstance required. */
const leapSchema = hookRequest(CONSULT_HOOK, {
  type: 'object',
  additionalProperties: false,
  required: ['patientId', 'actor'],
  properties: {
    actor: { type: 'array', items: identifier },
    purposeOfUse,
    category: { type: 'array', items: coding },
    patientId: { type: 'array', items: identifier },
    class: { type: 'array', items: coding },
    content: bundleSchema,
  },
});

/** Ketenpoort's first shape: `scope` (the consent scope) and a purpose are required; hookInstance optional. */
const legacySchema = {
  type: 'object',
  required: ['hook', 'context'],
  properties: {
    hook: { const: CONSULT_HOOK },
    hookInstance: { type: 'string' },
    context: {
      type: 'object',
      required: ['patientId', 'scope', 'purposeOfUse', 'actor'],
      properties: {
        patientId: { type: 'array', minItems: 1, items: identifier },
        scope: { enum: ['patient-privacy', 'adr', 'research', 'treatment'] },
        purposeOfUse: {
          anyOf: [
            { type: 'string', minLength: 1 },
            { type: 'array', items: { type: 'string' } },
          ],
        },
        actor: { type: 'array', minItems: 1, items: identifier },
        category: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' } } } },
        class: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' } } } },
        content: bundleSchema,
      },
    },
  },
};

const labelSchema = hookRequest(LABEL_HOOK, {
  type: 'object',
  required: ['bundle'],
  properties: { bundle: bundleSchema },
});

const ajv = new Ajv({ allErrors: true });
const validateLeap = ajv.compile(leapSchema);
const validateLegacy = ajv.compile(legacySchema);
const validateLabel = ajv.compile(labelSchema);

/** What a consult asks, whichever shape it came in. */
export interface ConsultQuestion {
  hookInstance?: string;
  patientId: Identifier[];
  actor: Identifier[];
  /** The purposes asked for; empty when the request names none. */
  purposes: string[];
  /** The consent categories the question is about (consentscope patient-privacy, research, ...). */
  category?: Coding[];
  /** Content classes asked for (FHIR resource types and other class systems). */
  classes: Coding[];
  content?: Bundle;
  /** Which shape the request came in. */
  shape: 'leap' | 'legacy';
}

function refuse(errors: ErrorObject[] | null | undefined): never {
  const text = (errors ?? [])
    .map((e) => {
      const p = e.params as { pattern?: string; additionalProperty?: string };
      const extra = p.pattern ?? p.additionalProperty;
      return `${e.instancePath || '/'} ${e.message}${extra ? ` (${extra})` : ''}`;
    })
    .join('; ');
  throw badRequest(`Ongeldig verzoek / Invalid request: ${text}`);
}

/** Each purpose is a decision and each actor a directory search: a question names at most this many. */
export const MAX_PURPOSES = 10;
export const MAX_ACTORS = 20;

export function bounded(q: ConsultQuestion): ConsultQuestion {
  if (new Set(q.purposes).size > MAX_PURPOSES)
    throw badRequest(
      `Hoogstens ${MAX_PURPOSES} doelen per vraag / At most ${MAX_PURPOSES} purposes per question`,
      'context.purposeOfUse',
    );
  if (q.actor.length > MAX_ACTORS)
    throw badRequest(
      `Hoogstens ${MAX_ACTORS} actor-identifiers per vraag / At most ${MAX_ACTORS} actor identifiers per question`,
      'context.actor',
    );
  return q;
}

const asArray = (v: unknown): string[] =>
  v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string];

/** Reads a consult request; 400 (OperationOutcome) where it breaks LEAP's schema (and is not the older shape). */
export function readConsult(body: unknown): ConsultQuestion {
  const context = (body as { context?: { scope?: unknown } } | undefined)?.context;
  if (context && typeof context === 'object' && 'scope' in context) {
    if (!validateLegacy(body)) refuse(validateLegacy.errors);
    return question(body, 'legacy', (c) => ({
      category: [{ system: CONSENT_SCOPE_SYSTEM, code: c.scope as string }],
      classes: ((c.class as Coding[] | undefined) ?? []).map((x) => ({ system: x.system, code: x.code })),
    }));
  }
  if (!validateLeap(body)) refuse(validateLeap.errors);
  return question(body, 'leap', (c) => ({
    category: c.category as Coding[] | undefined,
    classes: (c.class as Coding[] | undefined) ?? [],
  }));
}

/** The question of a schema-checked consult request; its categories and classes as its shape gives them. */
function question(
  body: unknown,
  shape: ConsultQuestion['shape'],
  asked: (context: Record<string, unknown>) => Pick<ConsultQuestion, 'category' | 'classes'>,
): ConsultQuestion {
  const b = body as { hookInstance?: string; context: Record<string, unknown> };
  const c = b.context;
  const { category, classes } = asked(c);
  return bounded({
    hookInstance: b.hookInstance,
    patientId: c.patientId as Identifier[],
    actor: c.actor as Identifier[],
    purposes: asArray(c.purposeOfUse),
    category,
    classes,
    content: c.content as Bundle | undefined,
    shape,
  });
}

/** Reads a bundle-security-label request; 400 where it breaks the schema. */
export function readLabelRequest(body: unknown): Bundle {
  if (!validateLabel(body)) refuse(validateLabel.errors);
  return (body as { context: { bundle: Bundle } }).context.bundle;
}
