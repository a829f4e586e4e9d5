// The shape of a `$` operation's parameters, from which its OperationDefinition (served at the URL the
// CapabilityStatement names) and its OpenAPI parameters are generated; each operation in operations/ writes its own.
// docs/contract.md describes the same.
import type { OperationDefinitionParameter } from '@medplum/fhirtypes';

export type ParamType = NonNullable<OperationDefinitionParameter['type']>;

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

export const param = (
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

/** The inputs of a consent decision, shared by $exchange, $request-records and $consent-decision. */
export const decisionInputs = (counterpart: 'recipient' | 'source'): OperationParam[] => [
  param(
    counterpart,
    'Reference',
    1,
    '1',
    counterpart === 'recipient'
      ? 'The receiving agency: Organization/{id} or its identifier'
      : 'The agency that holds the data: Organization/{id} or its identifier',
  ),
  param('subject', 'Identifier', 1, '1', 'The person whose data this is (BSN)'),
  param('purpose', 'Coding', 1, '1', 'Purpose of use (v3 ActReason, e.g. TREAT, CAREMGT, HRESCH)'),
  param(
    'category',
    'Coding',
    0,
    '*',
    'Data categories (https://ketenpoort.nl/fhir/CodeSystem/data-category)',
  ),
  param(
    'legalBasis',
    'Coding',
    0,
    '1',
    'A legal exception from the legal-basis CodeSystem, for a use without consent',
  ),
  param('justification', 'string', 0, '1', 'Why the legal basis applies; required with legalBasis'),
  param('criterion', undefined, 0, '*', 'A structured criterion the legal basis demands', [
    param('code', 'code', 1, '1', 'The criterion'),
    param('value', 'string', 1, '1', 'Its value (valueBoolean or valueString)'),
  ]),
  param('practitioner', 'Identifier', 0, '1', 'The acting professional'),
];

/** The person an overview is about, as a query parameter. */
export const personIdentifier = param('identifier', 'string', 1, '1', 'The person: <bsn-system>|<bsn>');
