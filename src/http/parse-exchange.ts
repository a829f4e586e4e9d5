// Reading the question of a decision or an exchange from its Parameters: every check of the input in one place, so
// that the use cases get plain, valid values (subject, purpose, parties, payload).
import type { Bundle } from '@medplum/fhirtypes';
import { FAMILY_ID_SYSTEM } from '../consent/constants.js';
import type { Language } from '../consent/explain.js';
import { isKnownCode } from '../consent/code-allowlist.js';
import { isValidBsn } from '../mappings/bsn.js';
import { FORMATS, formatNamed, mapNative } from '../mappings/formats.js';
import { checkFhir } from '../mappings/validate.js';
import { accepted } from '../fhir/verdict.js';
import { BSN_SYSTEM } from '../store/resources.js';
import type { Subject } from '../person-index/facts.js';
import { rule, type OrganizationRef } from '../exchange/parties.js';
import type { DecisionQuestion } from '../exchange/request.js';
import { badRequest, unprocessable } from '../fhir/outcomes.js';
import type { OperationInput } from './parameters.js';

const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** The subject: a BSN, or a family identifier (a registered Group); 400/422 when it is neither. */
export function subjectOf(input: OperationInput): Subject {
  const id = input.identifier('subject', true);
  if (id.system === FAMILY_ID_SYSTEM && id.value) return { kind: 'family', value: id.value, identifier: id };
  if (id.system !== BSN_SYSTEM || !id.value) {
    throw badRequest(
      `Parameter "subject" moet een identifier zijn met system ${BSN_SYSTEM} (een persoon) of ${FAMILY_ID_SYSTEM} (een gezin) / Parameter "subject" must be an identifier with system ${BSN_SYSTEM} (a person) or ${FAMILY_ID_SYSTEM} (a family)`,
    );
  }
  if (!isValidBsn(id.value))
    throw rule(
      `"${id.value}" is geen geldig BSN / "${id.value}" is not a valid BSN`,
      'Parameters.parameter[subject]',
    );
  return { kind: 'person', value: id.value, identifier: id };
}

/** An organisation parameter: a reference to an Organization, or an identifier; 400 when it is neither. */
export function organizationRef(input: OperationInput, name: string): OrganizationRef {
  const ref = input.reference(name, true);
  if (ref.reference) {
    const [type, id] = ref.reference.split('/');
    if (type !== 'Organization' || !id)
      throw badRequest(
        `Parameter "${name}" moet naar een Organization verwijzen / Parameter "${name}" must reference an Organization`,
      );
    return { id };
  }
  const identifier = ref.identifier;
  if (identifier?.value) return { identifier: { ...identifier, value: identifier.value } };
  throw badRequest(
    `Parameter "${name}" heeft een reference of een identifier nodig / Parameter "${name}" needs a reference or an identifier`,
  );
}

/** Data categories asked for (repeating `category` codings). */
export function categoriesOf(input: OperationInput): string[] {
  return input
    .codings('category')
    .map((c) => c.code!)
    .filter(Boolean);
}

/** The common parameters of $exchange and $consent-decision. */
export function questionOf(input: OperationInput): DecisionQuestion {
  const subject = subjectOf(input);
  const purpose = input.coding('purpose', true);
  // A purpose without a system is read as an ActReason code, as the contract names them.
  const given = String(purpose.code ?? '').slice(0, 40);
  if ((purpose.system ?? ACT_REASON) !== ACT_REASON || !isKnownCode(ACT_REASON, purpose.code))
    throw rule(
      `Het doel moet een code uit ${ACT_REASON} zijn (bijvoorbeeld CAREMGT, TREAT, HRESCH), niet "${given}" / The purpose must be a code of ${ACT_REASON} (for example CAREMGT, TREAT, HRESCH), not "${given}"`,
      'Parameters.parameter[purpose]',
    );
  const recipient = organizationRef(input, 'recipient');
  const legalBasis = input.coding('legalBasis');
  const justification = input.string('justification');
  return {
    subject,
    purpose,
    recipient,
    categories: categoriesOf(input),
    legalBasis,
    justification,
    criteria: input.criteria(),
    practitioner: input.identifier('practitioner'),
  };
}

/** A native payload (nativePayload + format), mapped to its Bundle and validated like any payload, at `now`. */
function nativePayloadOf(input: OperationInput, text: string, lang: Language, now?: Date): Bundle {
  const name = input.one('format')?.valueCode;
  const format = formatNamed(name);
  if (!format)
    throw badRequest(
      `Parameter "format" moet een ondersteund bronformaat noemen (${Object.keys(FORMATS).join(', ')}); gekregen: ${name ?? 'geen'} / Parameter "format" must name a native format (${Object.keys(FORMATS).join(', ')}); got ${name ?? 'none'}`,
      'Parameters.parameter[format]',
    );
  const at = 'Parameters.parameter[nativePayload]';
  let body: unknown = text;
  if (text.trimStart().startsWith('{')) {
    try {
      body = JSON.parse(text);
    } catch {
      throw badRequest('De nativePayload is geen geldige JSON / The native payload is not valid JSON', at);
    }
  }
  const bundles = accepted(mapNative(format, body, at, lang, now));
  if (bundles.length !== 1)
    throw unprocessable([
      {
        severity: 'error',
        code: 'invalid',
        diagnostics: `Eén record per uitwisseling; de payload bevat er ${bundles.length} / One record per exchange; the payload holds ${bundles.length}`,
        expression: [at],
      },
    ]);
  return accepted(checkFhir<Bundle>(bundles[0], ['Bundle'], { at: now }));
}

/** The payload: a collection Bundle, given as resource, or a native record that is mapped first (at `now`). */
export function payloadOf(input: OperationInput, lang: Language, now?: Date): Bundle {
  const native = input.one('nativePayload');
  if (native) {
    if (typeof native.valueString !== 'string')
      throw badRequest(
        'Parameter "nativePayload" verwacht een valueString / Parameter "nativePayload" takes a valueString',
        'Parameters.parameter[nativePayload]',
      );
    if (input.one('payload'))
      throw badRequest(
        'Stuur "payload" of "nativePayload", niet allebei / Send either "payload" or "nativePayload", not both',
      );
    return nativePayloadOf(input, native.valueString, lang, now);
  }
  const resource = input.one('payload')?.resource;
  if (!resource)
    throw badRequest(
      'Parameter "payload" (een Bundle) is verplicht / Parameter "payload" (a Bundle resource) is required',
      'Parameters.parameter[payload]',
    );
  // Already validated as part of the Parameters (structure and the gateway's rules); only its type is checked here.
  if (resource.resourceType !== 'Bundle')
    throw badRequest(
      'Parameter "payload" moet een Bundle zijn / Parameter "payload" must be a Bundle',
      'Parameters.parameter[payload].resource',
    );
  const bundle = resource as Bundle;
  if (bundle.type !== 'collection')
    throw badRequest(
      'De payload-Bundle moet van het type collection zijn / The payload Bundle must be of type collection',
      'Parameters.parameter[payload].resource.type',
    );
  return bundle;
}
