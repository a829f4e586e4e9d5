// The request as decide() takes it, from what a requester asked (read and checked by the edge that took the question).
import type { Coding, Identifier } from '@medplum/fhirtypes';
import type { DecisionRequest } from '../consent/types.js';
import type { Queryable } from '../store/database.js';
import type { Principal } from '../auth/access.js';
import type { Subject } from '../person-index/facts.js';
import type { DecisionFactsSource } from '../person-index/decision-facts.js';
import { resolveOrganization, type OrganizationRef, type Party } from './parties.js';

/** The common parameters of $exchange and $consent-decision, as plain values. */
export interface DecisionQuestion {
  subject: Subject;
  purpose: Coding;
  recipient: OrganizationRef;
  categories: string[];
  legalBasis?: Coding;
  justification?: string;
  criteria: Record<string, string | boolean>;
  practitioner?: Identifier;
}

/** The request as decide() takes it: the requester's, to the recipient of the directory (422 when unknown). */
export async function decisionRequestOf(
  services: { db: Queryable; facts?: DecisionFactsSource },
  principal: Principal,
  q: DecisionQuestion,
): Promise<{ recipient: Party; request: DecisionRequest }> {
  const recipient = await resolveOrganization(services, q.recipient, 'recipient');
  const request: DecisionRequest = {
    requesterOrg: principal.org,
    requesterRole: principal.role,
    recipientOrg: recipient.reference,
    recipientRole: recipient.role,
    recipientIdentifiers: recipient.organization.identifier,
    subjectBsn: q.subject.value,
    subjectKind: q.subject.kind,
    purpose: q.purpose,
    categories: q.categories,
    legalBasis: q.legalBasis,
    justification: q.justification,
    criteria: q.criteria,
  };
  return { recipient, request };
}
