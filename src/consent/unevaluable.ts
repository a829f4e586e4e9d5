// Consents the engine cannot evaluate (malformed ones stored before the gateway checked FHIR well-formedness, such as
// `"performer": [null]`) must not deny a legal exception that does not rest on consent: they are skipped and reported.
import type { Consent } from '@medplum/fhirtypes';
import type { Catalogue } from './catalogue.js';
import type { Decision, DecisionFacts, DecisionRequest } from './types.js';

/**
 * After a decision failed: when the request names a legal exception that needs no consent and looks for no objection
 * (a Veilig Thuis report under Wmo 5.2.6), the decision again without the consents that fail on their own, with the
 * reason `consent-unevaluable` naming them. Undefined where that does not apply; the caller then fails closed.
 */
export function withoutUnevaluableConsents(
  req: DecisionRequest,
  facts: DecisionFacts,
  catalogue: Catalogue,
  decideWith: (facts: DecisionFacts) => Decision,
): Decision | undefined {
  const entry = req.legalBasis ? catalogue.legalBases.get(req.legalBasis.code ?? '') : undefined;
  // A consent-based decision, or an exception that an objection (a consent) can stop, cannot do without them.
  if (!entry || entry.consentRequired || entry.optOut) return undefined;
  const fails = (consents: Consent[]) => {
    try {
      decideWith({ ...facts, consents });
      return false;
    } catch {
      return true;
    }
  };
  const unevaluable = facts.consents.filter((c) => fails([c]));
  if (unevaluable.length === 0) return undefined;
  try {
    const decision = decideWith({
      ...facts,
      consents: facts.consents.filter((c) => !unevaluable.includes(c)),
    });
    const consents = unevaluable.map((c) => `Consent/${String(c?.id ?? 'unknown')}`).join(', ');
    return {
      ...decision,
      reasons: [...decision.reasons, { code: 'consent-unevaluable', params: { consents } }],
    };
  } catch {
    return undefined;
  }
}
