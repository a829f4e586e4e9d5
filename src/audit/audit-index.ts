// The search columns of an audit row, shared by the chain writer and the person attribution.

/** Columns that audit searches filter on; they are copied out of the AuditEvent, which stays the record. */
export interface AuditIndex {
  action: string;
  subtype: string;
  outcome: string;
  patient?: string;
  /** Every BSN the event concerns, when there are several (migration 010). */
  patients?: string[];
  agentOrg?: string;
  recipientOrg?: string;
  purpose?: string;
  legalBasis?: string;
}
