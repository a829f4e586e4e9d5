// The per-consent explanation of a decision as the requester may see it: privacy officers every consent, an
// organisation the consents it registered (the contract's rule for full explanations), anyone else none.
import type { ParametersParameter } from '@medplum/fhirtypes';
import { DECISION_REASON_SYSTEM } from '../consent/constants.js';
import type { ConsentExplanation } from '../consent/explain-consents.js';
import { loadCatalogue } from '../consent/catalogue.js';
import { renderReason } from '../consent/explain.js';
import type { Principal } from '../auth/access.js';

export function visibleExplanations(
  principal: Principal,
  explanations: ConsentExplanation[],
  registeredByRequester: (consentRef: string) => boolean,
): ConsentExplanation[] {
  if (principal.role === 'privacy-officer') return explanations;
  return explanations.filter((e) => registeredByRequester(e.consent));
}

/** The sentence of one explanation in Dutch and in English. */
export function explanationText(e: ConsentExplanation): { nl: string; en: string } {
  const catalogue = loadCatalogue();
  return {
    nl: renderReason(e.reason, catalogue, 'nl', 'full'),
    en: renderReason(e.reason, catalogue, 'en', 'full'),
  };
}

/** `consentExplanation` parts: consent, outcome, reason, and the sentence in Dutch (nl) and English (en). */
export function explanationParameters(explanations: ConsentExplanation[]): ParametersParameter[] {
  return explanations.map((e) => {
    const text = explanationText(e);
    return {
      name: 'consentExplanation',
      part: [
        { name: 'consent', valueReference: { reference: e.consent } },
        { name: 'outcome', valueCode: e.outcome },
        { name: 'reason', valueCoding: { system: DECISION_REASON_SYSTEM, code: e.reason.code } },
        { name: 'nl', valueString: text.nl },
        { name: 'en', valueString: text.en },
        ...evidenceParts(e),
      ],
    };
  });
}

/** A card's detail with, below it, one line per consent the requester may know of: Dutch, then English (markdown). */
export function detailWithExplanations(
  detail: string,
  explanations: ConsentExplanation[] | undefined,
): string {
  if (!explanations?.length) return detail;
  const lines = explanations.map((e) => {
    const text = explanationText(e);
    return `- ${text.nl}\n  ${text.en}`;
  });
  return `${detail}\n\n${lines.join('\n')}`;
}

/** How the consent was recorded: `form` (attachment | reference | none), and who verified it when, where recorded. */
function evidenceParts(e: ConsentExplanation): ParametersParameter[] {
  if (!e.evidence) return [];
  return [
    { name: 'form', valueCode: e.evidence.form },
    { name: 'verified', valueBoolean: e.evidence.verified },
    ...(e.evidence.verifiedBy ? [{ name: 'verifiedBy', valueString: e.evidence.verifiedBy }] : []),
    ...(e.evidence.verifiedOn ? [{ name: 'verifiedOn', valueDateTime: e.evidence.verifiedOn }] : []),
  ];
}
