// decide(): the consent rule, as one pure function over plain data.
import type { Consent, ConsentProvision, RelatedPerson } from '@medplum/fhirtypes';
import type { Decision, DecisionFacts, DecisionRequest, Reason } from './types.js';

export const PARENTAL_AUTHORITY_URL = 'https://ketenpoort.nl/fhir/StructureDefinition/parental-authority';
export const DECISION_REASON_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/decision-reason';

export function hasParentalAuthority(person: RelatedPerson): boolean {
  return (person.extension ?? []).some((e) => e.url === PARENTAL_AUTHORITY_URL && e.valueBoolean === true);
}

function deny(...reasons: Reason[]): Decision {
  return { decision: 'deny', consents: [], reasons, obligations: [] };
}

function inPeriod(period: { start?: string; end?: string } | undefined, at: Date): boolean {
  if (!period) return true;
  if (period.start && new Date(period.start) > at) return false;
  if (period.end && new Date(period.end) < at) return false;
  return true;
}

function permitsRecipientAndPurpose(provision: ConsentProvision | undefined, req: DecisionRequest): boolean {
  if (!provision || provision.type !== 'permit') return false;
  const actorOk = (provision.actor ?? []).some((a) => a.reference?.reference === req.recipientOrg);
  const purposeOk = (provision.purpose ?? []).some((p) => p.code === req.purpose.code);
  return actorOk && purposeOk;
}

/**
 * Decides an exchange: permit only on an active Consent about the subject, given by the subject or a parent
 * with parental authority, whose provision names this recipient and purpose within its period. Everything
 * else is denied.
 */
export function decide(req: DecisionRequest, facts: DecisionFacts, at: Date): Decision {
  const subject = facts.subject;
  if (!subject?.id) {
    return deny({
      code: 'subject-unknown',
      text: `No person with BSN ${req.subjectBsn} is registered in the person index.`,
      publicText: 'The person is not known to the gateway.',
    });
  }
  if (req.legalBasis) {
    return deny({
      code: 'legal-basis-unsupported',
      text: `Legal basis ${req.legalBasis.code} is not in the gateway's catalogue.`,
      publicText: 'The named legal basis cannot be used.',
    });
  }
  const subjectRef = `Patient/${subject.id}`;
  const consenters = new Set([
    subjectRef,
    ...facts.relatedPersons
      .filter((p) => p.patient?.reference === subjectRef && hasParentalAuthority(p))
      .map((p) => `RelatedPerson/${p.id}`),
  ]);
  const basis = facts.consents.find(
    (c: Consent) =>
      c.status === 'active' &&
      c.patient?.reference === subjectRef &&
      (c.performer ?? []).some((p) => p.reference !== undefined && consenters.has(p.reference)) &&
      inPeriod(c.provision?.period, at) &&
      permitsRecipientAndPurpose(c.provision, req),
  );
  if (!basis) {
    return deny({
      code: 'no-consent',
      text: `No active consent of ${subjectRef} or a parent with parental authority permits ${req.recipientOrg} for purpose ${req.purpose.code}.`,
      publicText: 'No consent covers this recipient and purpose.',
    });
  }
  return {
    decision: 'permit',
    basis: 'consent',
    consents: [`Consent/${basis.id}`],
    reasons: [
      {
        code: 'consent-permits',
        text: `Consent/${basis.id} permits ${req.recipientOrg} for purpose ${req.purpose.code}.`,
        publicText: 'A consent covers this exchange.',
      },
    ],
    obligations: [],
  };
}
