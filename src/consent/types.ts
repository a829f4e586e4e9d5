// The decision's inputs and outputs: plain data, no I/O.
import type { Bundle, Coding, Consent, Group, Identifier, Patient, RelatedPerson } from '@medplum/fhirtypes';

export type ConsentAction = 'collect' | 'access' | 'use' | 'disclose' | 'correct';

export interface DecisionRequest {
  /** `Organization/<id>` asking, and its role. */
  requesterOrg: string;
  requesterRole: string;
  /** `Organization/<id>` that would receive the data, its role and identifiers (from the directory). */
  recipientOrg: string;
  recipientRole?: string;
  recipientIdentifiers?: Identifier[];
  /** `Organization/<id>` that holds and discloses the data, and its role, when it is not the requester (a pull). */
  senderOrg?: string;
  senderRole?: string;
  /** BSN of the person whose data this is; for a family, the family's identifier value. */
  subjectBsn: string;
  subjectKind?: 'person' | 'family';
  purpose: Coding;
  action?: ConsentAction;
  /** Consent categories the question is about (LEAP `category`, e.g. consentscope patient-privacy): other Consents do not count. */
  consentCategories?: Coding[];
  /** Data categories asked for (without a payload). */
  categories?: string[];
  /** The data to disclose: decided per resource and minimised. */
  payload?: Bundle;
  legalBasis?: Coding;
  justification?: string;
  criteria?: Record<string, string | boolean>;
}

/** What the gateway knows when it decides: the person (or family), parents with gezag, and every Consent about them. */
export interface DecisionFacts {
  subject?: Patient;
  group?: Group;
  /** The persons the decision is about: the subject, or the Patients of the family Group. */
  members?: Patient[];
  relatedPersons: RelatedPerson[];
  consents: Consent[];
  /** Facts that the organisations' registrations of the subject disagree on: decisions that rely on them fail closed. */
  disputed?: DisputedFact[];
  /** Whether the requester registered the person itself; false → no decision about the person (undefined: not asked). */
  requesterRelated?: boolean;
}

/** A fact of the person index that decisions rely on. */
export type DisputedFact = 'birthDate' | 'parentalAuthority' | 'family';

export interface DecideOptions {
  /** What a parent's consent means once the child turns 12 or 16. */
  ageTransitionPolicy: 'keep-until-withdrawn' | 'require-renewal';
  /** Key for pseudonyms (HMAC); pseudonymised output differs per key. */
  pseudonymKey: string;
  /** `required`: a consent counts only with its signed form, a verification and every required signatory. */
  consentEvidence?: 'not-required' | 'required';
  /** The regional covenants every decision is intersected with (none: nothing narrowed). */
  covenants?: Covenant[];
}

/** A regional covenant (read from a FHIR Contract by src/consent/covenant.ts). */
export interface Covenant {
  reference: string;
  title: string;
  start?: string;
  end?: string;
  /** The signing organisations (`Organization/<id>`): only they send under the covenant. */
  parties: string[];
  /** Per recipient (an organisation, or every organisation of a role): purposes and data categories. */
  terms: { recipient: { reference?: string; role?: string }; purposes: string[]; categories: string[] }[];
}

/** A reason: a code from the decision-reason CodeSystem and the facts its sentence is made of. */
export interface Reason {
  code: string;
  /** A value is the same in every language, or given per language. */
  params: Record<string, string | number | { en: string; nl: string }>;
}

export type ObligationCode = 'REDACT' | 'MASK' | 'PSEUD' | 'NOTIFY-CLIENT' | 'REVIEW';

export interface Obligation {
  code: ObligationCode;
  detail: string;
  /** Reference (or fullUrl) of the resource removed or changed, where the obligation concerns one. */
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
  /** The payload as it may go out: minimised, labelled. Only on a permit with a payload. */
  delivered?: Bundle;
  /** Data categories disclosed and removed, for the audit record. */
  disclosed: string[];
  redacted: string[];
}
