// The decision's inputs and outputs: plain data, no I/O.
import type { Coding, Consent, Patient, RelatedPerson } from '@medplum/fhirtypes';

export interface DecisionRequest {
  /** `Organization/<id>` asking, and its role. */
  requesterOrg: string;
  requesterRole: string;
  /** `Organization/<id>` that would receive the data, and its role (from the directory). */
  recipientOrg: string;
  recipientRole?: string;
  /** BSN of the person whose data this is. */
  subjectBsn: string;
  purpose: Coding;
  /** Data categories asked for or present in the payload (codes of the data-category CodeSystem). */
  categories?: string[];
  legalBasis?: Coding;
  justification?: string;
  criteria?: Record<string, string | boolean>;
}

/** What the gateway knows when it decides: the person, their parents, and every Consent about them. */
export interface DecisionFacts {
  subject?: Patient;
  relatedPersons: RelatedPerson[];
  consents: Consent[];
}

export interface Reason {
  code: string;
  /** The full explanation, for privacy officers and the organisation that registered the consents. */
  text: string;
  /** What any requester may be told. */
  publicText: string;
}

export type ObligationCode = 'REDACT' | 'MASK' | 'PSEUD' | 'NOTIFY-CLIENT' | 'REVIEW';

export interface Obligation {
  code: ObligationCode;
  detail: string;
  /** Reference of the resource removed or changed, where the obligation concerns one. */
  removed?: string;
}

export interface Decision {
  decision: 'permit' | 'deny';
  basis?: 'consent' | 'legal-exception';
  /** References of the Consents the permit rests on. */
  consents: string[];
  legalBasis?: Coding;
  reasons: Reason[];
  obligations: Obligation[];
}
