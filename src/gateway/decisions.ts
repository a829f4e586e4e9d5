// The I/O shell around decide(): resolves the recipient, loads the facts, and renders the decision for HTTP.
import type {
  Coding,
  Endpoint,
  Organization,
  OperationOutcome,
  Parameters,
  ParametersParameter,
} from '@medplum/fhirtypes';
import { decide, DECISION_REASON_SYSTEM } from '../consent/decide.js';
import type { Decision, DecisionRequest } from '../consent/types.js';
import { isValidBsn } from '../mappings/bsn.js';
import type { Queryable } from '../store/database.js';
import { BSN_SYSTEM, hasAccess, readResource, searchResources } from '../store/resources.js';
import type { Principal } from './access.js';
import { loadSubject } from './person-index.js';
import { badRequest, FhirError, unprocessable } from './outcomes.js';
import type { OperationInput } from './parameters.js';

export const AGENCY_ROLE_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/agency-role';

export interface Recipient {
  reference: string;
  organization: Organization;
  role?: string;
}

function rule(diagnostics: string, expression: string) {
  return unprocessable([{ severity: 'error', code: 'business-rule', diagnostics, expression: [expression] }]);
}

/** Finds the recipient Organization by reference or identifier; 422 when the directory does not know it. */
export async function resolveOrganization(
  db: Queryable,
  input: OperationInput,
  name: string,
): Promise<Recipient> {
  const ref = input.reference(name, true);
  let organization: Organization | undefined;
  if (ref.reference) {
    const [type, id] = ref.reference.split('/');
    if (type !== 'Organization' || !id)
      throw badRequest(`Parameter "${name}" must reference an Organization`);
    organization = (await readResource<Organization>(db, 'Organization', id))?.resource;
  } else if (ref.identifier?.value) {
    const found = await searchResources<Organization>(db, {
      type: 'Organization',
      criteria: [
        { param: 'identifier', values: [{ system: ref.identifier.system, value: ref.identifier.value }] },
      ],
      count: 2,
      offset: 0,
      sort: 'asc',
    });
    organization = found.total === 1 ? found.resources[0] : undefined;
  } else {
    throw badRequest(`Parameter "${name}" needs a reference or an identifier`);
  }
  if (!organization)
    throw rule(`The ${name} organisation is not in the gateway's directory`, `Parameters.parameter[${name}]`);
  const role = organization.type
    ?.flatMap((t) => t.coding ?? [])
    .find((c) => c.system === AGENCY_ROLE_SYSTEM)?.code;
  return { reference: `Organization/${organization.id}`, organization, role };
}

/** The active FHIR Endpoint of an organisation; 422 when it has none. */
export async function endpointOf(db: Queryable, recipient: Recipient): Promise<string> {
  const found = await searchResources<Endpoint>(db, {
    type: 'Endpoint',
    criteria: [
      { param: 'organization', values: [{ value: recipient.reference }] },
      { param: 'status', values: [{ value: 'active' }] },
    ],
    count: 1,
    offset: 0,
    sort: 'asc',
  });
  const address = found.resources[0]?.address;
  if (!address)
    throw rule(
      `${recipient.reference} has no active FHIR Endpoint to deliver to`,
      'Parameters.parameter[recipient]',
    );
  return address;
}

/** The subject's BSN from a valueIdentifier; 400/422 when absent or not a BSN. */
export function subjectBsn(input: OperationInput): string {
  const id = input.identifier('subject', true);
  if (id.system !== BSN_SYSTEM || !id.value)
    throw badRequest(`Parameter "subject" must be an identifier with system ${BSN_SYSTEM}`);
  if (!isValidBsn(id.value)) throw rule(`"${id.value}" is not a valid BSN`, 'Parameters.parameter[subject]');
  return id.value;
}

export interface DecisionRun {
  request: DecisionRequest;
  decision: Decision;
  subjectRef?: string;
  /** Whether the requester may hear the full explanation: it registered consents about this person. */
  fullExplanation: boolean;
}

/** Loads the facts for a request and decides it; never throws a permit out of an error. */
export async function runDecision(
  db: Queryable,
  principal: Principal,
  request: DecisionRequest,
  at = new Date(),
): Promise<DecisionRun> {
  const facts = await loadSubject(db, request.subjectBsn);
  const decision = decide(request, facts, at);
  let fullExplanation = false;
  for (const c of facts.consents) {
    if (c.id && (await hasAccess(db, 'Consent', c.id, principal.org))) {
      fullExplanation = true;
      break;
    }
  }
  return {
    request,
    decision,
    subjectRef: facts.subject?.id ? `Patient/${facts.subject.id}` : undefined,
    fullExplanation,
  };
}

/** The 403 answer to a denied request: reason codes always, the full sentences only where the requester may know them. */
export function denial(run: DecisionRun): FhirError {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: run.decision.reasons.map((r) => ({
      severity: 'error',
      code: 'forbidden',
      details: { coding: [{ system: DECISION_REASON_SYSTEM, code: r.code }], text: r.publicText },
      diagnostics: run.fullExplanation ? r.text : r.publicText,
    })),
  };
  return new FhirError(403, outcome);
}

/** The decision as Parameters parts: decision, basis, consent, legalBasis, reason, obligation. */
export function decisionParameters(decision: Decision, fullExplanation: boolean): ParametersParameter[] {
  const params: ParametersParameter[] = [{ name: 'decision', valueCode: decision.decision }];
  if (decision.basis) params.push({ name: 'basis', valueCode: decision.basis });
  for (const c of decision.consents) params.push({ name: 'consent', valueReference: { reference: c } });
  if (decision.legalBasis) params.push({ name: 'legalBasis', valueCoding: decision.legalBasis });
  for (const r of decision.reasons) {
    params.push({
      name: 'reason',
      part: [
        { name: 'code', valueCoding: { system: DECISION_REASON_SYSTEM, code: r.code } as Coding },
        { name: 'text', valueString: fullExplanation ? r.text : r.publicText },
      ],
    });
  }
  for (const o of decision.obligations) {
    const part: ParametersParameter[] = [
      { name: 'code', valueCode: o.code },
      { name: 'detail', valueString: o.detail },
    ];
    if (o.removed) part.push({ name: 'removed', valueReference: { reference: o.removed } });
    params.push({ name: 'obligation', part });
  }
  return params;
}

export function parameters(parameter: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter };
}
