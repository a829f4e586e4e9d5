// The HTTP answers of a decision: the 403 OperationOutcome of a refusal, and the decision as Parameters parts.
import type { Bundle, Coding, OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { DECISION_REASON_SYSTEM } from '../consent/constants.js';
import type { Language } from '../consent/explain.js';
import type { Decision } from '../consent/types.js';
import { FhirError } from '../fhir/outcomes.js';
import { explanationText } from '../exchange/consent-explanations.js';
import type { DecisionRun } from '../exchange/decisions.js';
import { reasonText, shownReasons } from '../exchange/reasons.js';

/** The 403 answer to a denied request: reason codes always, the full sentences only where the requester may know them. */
export function denial(run: DecisionRun, lang: Language): FhirError {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: shownReasons(run).map((r) => ({
      severity: 'error',
      code: 'forbidden',
      details: {
        coding: [{ system: DECISION_REASON_SYSTEM, code: r.code }],
        text: reasonText(r, lang, false),
      },
      diagnostics: reasonText(r, lang, run.fullExplanation),
    })),
  };
  // Why each consent the requester may know of did not carry the exchange (information, not an error).
  for (const e of run.consentExplanations ?? [])
    outcome.issue.push({
      severity: 'information',
      code: 'informational',
      details: { coding: [{ system: DECISION_REASON_SYSTEM, code: e.reason.code }], text: e.outcome },
      diagnostics: explanationText(e)[lang],
      expression: [e.consent],
    });
  return new FhirError(403, outcome);
}

/** The decision as Parameters parts: decision, basis, consent, legalBasis, reason, obligation. */
export function decisionParameters(decision: Decision, lang: Language, full: boolean): ParametersParameter[] {
  const params: ParametersParameter[] = [{ name: 'decision', valueCode: decision.decision }];
  if (decision.basis) params.push({ name: 'basis', valueCode: decision.basis });
  for (const c of decision.consents) params.push({ name: 'consent', valueReference: { reference: c } });
  if (decision.legalBasis) params.push({ name: 'legalBasis', valueCoding: decision.legalBasis });
  for (const r of decision.reasons) {
    params.push({
      name: 'reason',
      part: [
        { name: 'code', valueCoding: { system: DECISION_REASON_SYSTEM, code: r.code } as Coding },
        { name: 'text', valueString: reasonText(r, lang, full) },
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

/**
 * The records a permitted pull hands over: the minimised Bundle, labelled with the decision, with the reasons and
 * obligations as an OperationOutcome entry (search mode outcome).
 */
export function pulledBundle(decision: Decision, lang: Language): Bundle {
  const obligations: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      ...decision.reasons.map((r) => ({
        severity: 'information' as const,
        code: 'informational' as const,
        details: { coding: [{ system: DECISION_REASON_SYSTEM, code: r.code }] },
        diagnostics: reasonText(r, lang, true),
      })),
      ...decision.obligations.map((o) => ({
        severity: 'information' as const,
        code: 'informational' as const,
        details: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: o.code }] },
        diagnostics: `${o.code}: ${o.detail}`,
        expression: o.removed ? [o.removed] : undefined,
      })),
    ],
  };
  const delivered = decision.delivered!;
  return {
    ...delivered,
    meta: {
      ...delivered.meta,
      security: [
        ...(delivered.meta?.security ?? []),
        {
          system: DECISION_REASON_SYSTEM,
          code: decision.basis === 'legal-exception' ? 'legal-basis-permits' : 'consent-permits',
          display: `decision: permit (${decision.basis})`,
        },
      ],
    },
    entry: [
      ...(delivered.entry ?? []),
      { fullUrl: 'urn:uuid:decision', resource: obligations, search: { mode: 'outcome' } },
    ],
  };
}
