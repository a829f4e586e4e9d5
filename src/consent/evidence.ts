// Evidence of a consent: the signed form (sourceAttachment / sourceReference), who signed it against the age table on
// the day it was given, and who verified it when (verification). A policy says whether a consent without it counts.
import type { Consent } from '@medplum/fhirtypes';
import { joinLabels, performersOf, personLabel, requiredConsenters, type PersonFacts } from './consenters.js';
import type { Reason } from './types.js';

export type EvidencePolicy = 'not-required' | 'required';

/** What the record of a consent shows of its evidence, for explanations and the console. */
export interface Evidence {
  form: 'attachment' | 'reference' | 'none';
  verified: boolean;
  verifiedBy?: string;
  verifiedOn?: string;
}

export function evidenceOf(consent: Consent): Evidence {
  const attachment = consent.sourceAttachment;
  const form =
    attachment && (attachment.data || attachment.url)
      ? 'attachment'
      : consent.sourceReference?.reference || consent.sourceReference?.identifier?.value
        ? 'reference'
        : 'none';
  // A verification counts when it says who verified (verifiedWith) and when (verificationDate).
  const check = (consent.verification ?? []).find(
    (v) =>
      v.verified === true && v.verificationDate && (v.verifiedWith?.reference || v.verifiedWith?.display),
  );
  return {
    form,
    verified: !!check,
    verifiedBy: check?.verifiedWith?.reference ?? check?.verifiedWith?.display,
    verifiedOn: check?.verificationDate,
  };
}

/**
 * Why a permitting consent does not count under the `required` policy, or undefined when it does: it needs its signed
 * form, a verification (who, when), and the signatures of everyone the age table required on the day it was given
 * (both gezag holders under 12, the young person and the gezag holders from 12 to 15, the young person from 16).
 * A refusal (a deny at the root) always counts: evidence never weakens an objection.
 */
export function evidenceProblem(consent: Consent, person: PersonFacts, at: Date): Reason | undefined {
  if (consent.provision?.type !== 'permit') return undefined;
  const ref = `Consent/${consent.id}`;
  const evidence = evidenceOf(consent);
  if (evidence.form === 'none') return { code: 'consent-evidence-missing', params: { consent: ref } };
  if (!evidence.verified) return { code: 'consent-unverified', params: { consent: ref } };
  const given = consent.dateTime ? new Date(consent.dateTime) : at;
  const requirement = requiredConsenters(person, Number.isNaN(given.getTime()) ? at : given);
  if ('code' in requirement) return undefined;
  const signed = new Set(performersOf(consent));
  const missing = requirement.required.filter((r) => !signed.has(r));
  if (missing.length === 0) return undefined;
  return {
    code: 'consent-signatory-missing',
    params: { consent: ref, missing: joinLabels(missing.map((m) => personLabel(person, m))) },
  };
}

/** The persons with only the consents that count under the policy, and the reasons the others do not. */
export function screenEvidence(
  persons: PersonFacts[],
  at: Date,
  policy: EvidencePolicy | undefined,
): { persons: PersonFacts[]; reasons: Reason[] } {
  if (policy !== 'required') return { persons, reasons: [] };
  const reasons: Reason[] = [];
  const screened = persons.map((person) => ({
    ...person,
    consents: person.consents.filter((c) => {
      const problem = evidenceProblem(c, person, at);
      if (problem) reasons.push(problem);
      return !problem;
    }),
  }));
  return { persons: screened, reasons };
}
