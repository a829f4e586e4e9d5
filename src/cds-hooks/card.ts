// LEAP's answers: the CDS Hooks card of a consult, and the XACML JSON response of the same decision.
import type { ConsultAnswer, LeapDecision } from './consult.js';

const INDICATOR: Record<LeapDecision, 'info' | 'warning' | 'critical'> = {
  CONSENT_PERMIT: 'info',
  NO_CONSENT: 'warning',
  CONSENT_DENY: 'critical',
};

const XACML: Record<LeapDecision, 'Permit' | 'Deny' | 'NotApplicable'> = {
  CONSENT_PERMIT: 'Permit',
  CONSENT_DENY: 'Deny',
  NO_CONSENT: 'NotApplicable',
};

/** The one card of a consult: summary and extension.decision the decision, its indicator, and what it rests on. */
export function consultCard(answer: ConsultAnswer, source: { label: string; url: string }) {
  return {
    summary: answer.decision,
    detail: answer.detail,
    indicator: INDICATOR[answer.decision],
    source,
    extension: {
      decision: answer.decision,
      obligations: answer.obligations,
      ...(answer.content ? { content: answer.content } : {}),
      ...(answer.basedOn ? { basedOn: answer.basedOn } : {}),
    },
  };
}

/** The XACML JSON profile answer: Decision, and each obligation with its parameters as attribute assignments. */
export function xacmlResponse(answer: ConsultAnswer) {
  return {
    Response: [
      {
        Decision: XACML[answer.decision],
        Obligations: answer.obligations.map((o) => ({
          Id: o.id,
          AttributeAssignment: Object.entries(o.parameters ?? {}).map(([AttributeId, Value]) => ({
            AttributeId,
            Value,
          })),
        })),
      },
    ],
  };
}
