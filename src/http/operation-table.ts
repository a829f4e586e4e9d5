// The parameters of every `$` operation the gateway offers, from which its OperationDefinition (served at the URL the
// CapabilityStatement names) and its OpenAPI parameters are generated. docs/contract.md describes the same.
import type { OperationDefinitionParameter } from '@medplum/fhirtypes';

type ParamType = NonNullable<OperationDefinitionParameter['type']>;

export interface OperationParam {
  name: string;
  min: 0 | 1;
  max: '1' | '*';
  /** A FHIR type; absent for a parameter made of parts. */
  type?: ParamType;
  documentation: string;
  part?: OperationParam[];
}

export interface OperationSpec {
  /** What the operation does, one sentence (the OperationDefinition's description). */
  description: string;
  in: OperationParam[];
  /** The answer's resource type, as the single `return` out-parameter. */
  returns: ParamType;
  affectsState: boolean;
}

const p = (
  name: string,
  type: ParamType | undefined,
  min: 0 | 1,
  max: '1' | '*',
  documentation: string,
  part?: OperationParam[],
): OperationParam => ({
  name,
  min,
  max,
  documentation,
  ...(type ? { type } : {}),
  ...(part ? { part } : {}),
});

const decisionInputs = (counterpart: 'recipient' | 'source'): OperationParam[] => [
  p(
    counterpart,
    'Reference',
    1,
    '1',
    counterpart === 'recipient'
      ? 'The receiving agency: Organization/{id} or its identifier'
      : 'The agency that holds the data: Organization/{id} or its identifier',
  ),
  p('subject', 'Identifier', 1, '1', 'The person whose data this is (BSN)'),
  p('purpose', 'Coding', 1, '1', 'Purpose of use (v3 ActReason, e.g. TREAT, CAREMGT, HRESCH)'),
  p('category', 'Coding', 0, '*', 'Data categories (https://ketenpoort.nl/fhir/CodeSystem/data-category)'),
  p(
    'legalBasis',
    'Coding',
    0,
    '1',
    'A legal exception from the legal-basis CodeSystem, for a use without consent',
  ),
  p('justification', 'string', 0, '1', 'Why the legal basis applies; required with legalBasis'),
  p('criterion', undefined, 0, '*', 'A structured criterion the legal basis demands', [
    p('code', 'code', 1, '1', 'The criterion'),
    p('value', 'string', 1, '1', 'Its value (valueBoolean or valueString)'),
  ]),
  p('practitioner', 'Identifier', 0, '1', 'The acting professional'),
];

const validateSpec = (type: string): OperationSpec => ({
  description: `Validates a ${type} as the gateway would (FHIR R4 structure and invariants, the Ketenpoort profile, BSN 11-test, codes), storing nothing.`,
  in: [p('resource', 'Resource', 1, '1', `The ${type} (or the resource itself as the body)`)],
  returns: 'OperationOutcome',
  affectsState: false,
});

const SPECS: Record<string, OperationSpec> = {
  exchange: {
    description:
      'Pushes records to another agency after a consent decision; permitted → 202 with the decision and the Task tracking delivery, denied → 403.',
    in: [
      ...decisionInputs('recipient'),
      p('payload', 'Bundle', 0, '1', 'The records (a collection Bundle); or nativePayload with format'),
      p('nativePayload', 'string', 0, '1', 'A native record to map first (GET /mappings lists the formats)'),
      p('format', 'code', 0, '1', 'The format of nativePayload'),
    ],
    returns: 'Parameters',
    affectsState: true,
  },
  'request-records': {
    description:
      'Pulls records from another agency after a consent decision; answers the minimised Bundle, or 403 when denied.',
    in: decisionInputs('source'),
    returns: 'Bundle',
    affectsState: true,
  },
  'consent-decision': {
    description:
      'Asks for a decision without moving data (privacy officers: a past decision replayed with at).',
    in: [
      ...decisionInputs('recipient'),
      p('at', 'dateTime', 0, '1', 'Replay the decision as it was at this moment (privacy officers)'),
    ],
    returns: 'Parameters',
    affectsState: false,
  },
  'Bundle-security-label': {
    description:
      'Labels a Bundle with the classification table before it is sent: each entry with its data categories, security labels and confidentiality; stores nothing.',
    in: [p('bundle', 'Bundle', 0, '1', 'The Bundle to label (or send the Bundle itself as the body)')],
    returns: 'Parameters',
    affectsState: false,
  },
  'Consent-withdraw': {
    description:
      'Withdraws a consent: it is inactive at once, and queued deliveries relying on it are cancelled.',
    in: [],
    returns: 'Consent',
    affectsState: true,
  },
  'Patient-access-report': {
    description: "Who received or read a person's data, when, for what purpose and on which basis.",
    in: [p('identifier', 'string', 1, '1', 'The person: <bsn-system>|<bsn>')],
    returns: 'Bundle',
    affectsState: false,
  },
  'Patient-permissions': {
    description:
      'Which organisations may receive which data categories about a person, for which purposes, on which consents and until when.',
    in: [
      p('identifier', 'string', 1, '1', 'The person: <bsn-system>|<bsn>'),
      p('sender', 'string', 0, '1', 'Organization/<id> that discloses (default: each consent registrar)'),
    ],
    returns: 'Parameters',
    affectsState: false,
  },
  'AuditEvent-verify': {
    description:
      'Verifies the audit hash chains and signed checkpoints; names the first altered, removed or inserted event.',
    in: [],
    returns: 'Parameters',
    affectsState: false,
  },
  'AuditEvent-export': {
    description: 'Exports the audit events matching the AuditEvent search parameters as NDJSON or CSV.',
    in: [
      p('_format', 'code', 0, '1', 'ndjson (default) or csv'),
      p('patient:identifier', 'string', 0, '1', 'The person: <bsn-system>|<bsn>'),
      p('date', 'string', 0, '*', 'Dates with a prefix (ge, le, …), Europe/Amsterdam'),
      p('agent', 'string', 0, '1', 'The organisation or client that acted'),
      p('outcome', 'string', 0, '1', 'The outcome code'),
      p('purpose', 'string', 0, '1', 'The purpose of use'),
    ],
    returns: 'Binary',
    affectsState: false,
  },
  'CodeSystem-validate-code': {
    description: 'Says whether a code is in one of the gateway\u2019s CodeSystems.',
    in: [p('url', 'uri', 1, '1', 'The CodeSystem (also as system)'), p('code', 'code', 1, '1', 'The code')],
    returns: 'Parameters',
    affectsState: false,
  },
  'ValueSet-validate-code': {
    description: 'Says whether a code is in one of the gateway\u2019s ValueSets.',
    in: [
      p('url', 'uri', 1, '1', 'The ValueSet'),
      p('system', 'uri', 0, '1', 'The code system of the code'),
      p('code', 'code', 1, '1', 'The code'),
    ],
    returns: 'Parameters',
    affectsState: false,
  },
  'ValueSet-expand': {
    description: 'Expands one of the gateway\u2019s ValueSets, filtered, with Dutch displays on request.',
    in: [
      p('url', 'uri', 1, '1', 'The ValueSet'),
      p('filter', 'string', 0, '1', 'Only codes whose display contains this text'),
      p('displayLanguage', 'code', 0, '1', 'nl for the Dutch displays'),
    ],
    returns: 'ValueSet',
    affectsState: false,
  },
};

/**
 * The specification of an operation by its id (`exchange`, `Consent-withdraw`, `Bundle-validate`). One this table does
 * not know is described from its route: its summary, and its documented query parameters as optional strings.
 */
export function operationSpec(
  id: string,
  route: { summary: string; query?: { name: string; description: string; required?: boolean }[] },
): OperationSpec {
  const known = SPECS[id];
  if (known) return known;
  const validated = /^(\w+)-validate$/.exec(id);
  if (validated) return validateSpec(validated[1]!);
  const query = (route.query ?? []).map((q) => p(q.name, 'string', q.required ? 1 : 0, '1', q.description));
  return { description: route.summary, in: query, returns: 'Resource', affectsState: false };
}
