// Builds AuditEvents in the IHE BALP shape with the NEN 7513 fields: who, for whom, whose data, why, on which basis.
import type {
  AuditEvent,
  AuditEventAgent,
  AuditEventEntity,
  Coding,
  Identifier,
  Reference,
} from '@medplum/fhirtypes';
import type { AuditIndex } from './audit-index.js';
import { distinctPersons, personEntity, personIndex, type AuditPerson } from './persons.js';

export const AUDIT_SUBTYPE_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/audit-subtype';
export const CLIENT_ID_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/client-id';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

export type AuditOutcome = 'success' | 'denied' | 'error';
const OUTCOME_CODE: Record<AuditOutcome, AuditEvent['outcome']> = { success: '0', denied: '4', error: '8' };

type AccessType = { type: Coding; action: AuditEvent['action'] };
/** A RESTful interaction (audit-event-type `rest`) with its action. */
const rest = (action: AuditEvent['action']): AccessType => ({
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
  action,
});
/** A DICOM audit event type (DCM) with its action. */
const dcm = (code: string, display: string, action: AuditEvent['action']): AccessType => ({
  type: { system: DCM, code, display },
  action,
});

/** What kind of access this was; the subtype names the operation or interaction. */
const TYPES: Record<string, AccessType> = {
  exchange: dcm('110106', 'Export', 'E'),
  'request-records': dcm('110107', 'Import', 'E'),
  'consent-decision': dcm('110112', 'Query', 'E'),
  create: rest('C'),
  update: rest('U'),
  read: rest('R'),
  search: rest('E'),
  withdraw: rest('U'),
  'audit-read': dcm('110101', 'Audit Log Used', 'R'),
  delivery: dcm('110106', 'Export', 'E'),
  // A request refused at the edge (401, 403, 404); the action is that of the refused request.
  refusal: dcm('110113', 'Security Alert', 'E'),
  'audit-prune': dcm('110101', 'Audit Log Used', 'D'),
  // Aggregate reporting: a trajectory recorded for it (no personal data) and a report read.
  'report-record': rest('C'),
  'municipal-report': rest('R'),
  // The sandbox emptied back to its fixtures (POST /sandbox/reset; sandbox mode only).
  'sandbox-reset': rest('D'),
};

export interface AuditInput {
  subtype: keyof typeof TYPES;
  outcome: AuditOutcome;
  /** A sentence for the privacy officer: the full explanation of the decision or failure. */
  description: string;
  /** Who asked: the organisation ('' when unknown: no valid token), the client, and the network address if kept. */
  requester: { org: string; clientId: string; practitioner?: Identifier; network?: string };
  recipientOrg?: string;
  /** Whose data: the person's BSN, and the Patient reference where known. */
  patient?: AuditPerson;
  /**
   * Further persons whose data this is (the members of a family, the persons a search returned). A person named only
   * by reference (a Group, a RelatedPerson, a Task) is resolved to BSNs when the event is written.
   */
  patients?: AuditPerson[];
  /** What was done, where the subtype alone does not say it (a refusal: the action of the refused request). */
  action?: AuditEvent['action'];
  purpose?: Coding;
  consents?: string[];
  legalBasis?: Coding;
  justification?: string;
  /** Further entities touched (a Task, a Consent, the resource read). */
  entities?: Reference[];
  /** Named facts worth keeping: reason codes, data categories disclosed/removed, request id. */
  details?: Record<string, string | string[]>;
  /** When the access happened: the request's moment (its one time), the system time if absent. */
  recorded?: Date;
}

export function buildAuditEvent(input: AuditInput): { event: AuditEvent; index: AuditIndex } {
  const kind = TYPES[input.subtype] ?? TYPES.read!;
  const agents: AuditEventAgent[] = [
    {
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      who: {
        reference: input.requester.org || undefined,
        identifier: { system: CLIENT_ID_SYSTEM, value: input.requester.clientId },
      },
      requestor: !input.requester.practitioner,
      network: input.requester.network ? { address: input.requester.network, type: '2' } : undefined,
    },
  ];
  if (input.requester.practitioner) {
    agents.push({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass',
            code: 'PROV',
            display: 'healthcare provider',
          },
        ],
      },
      who: { identifier: input.requester.practitioner },
      requestor: true,
      // NEN 7513 "on behalf of": the professional acts for the requesting organisation.
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/auditevent-OnBehalfOf',
          valueReference: { reference: input.requester.org },
        },
      ],
    });
  }
  if (input.recipientOrg) {
    agents.push({
      type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
      who: { reference: input.recipientOrg },
      requestor: false,
    });
  }
  // One entity per person, so that each person's access report finds the event.
  const persons = distinctPersons([input.patient, ...(input.patients ?? [])]);
  const entities: AuditEventEntity[] = persons.map(personEntity);
  for (const consent of input.consents ?? []) {
    entities.push({
      what: { reference: consent },
      type: {
        system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
        code: '2',
        display: 'System Object',
      },
      description: 'basis: consent',
    });
  }
  if (input.legalBasis) {
    entities.push({
      what: { identifier: { system: input.legalBasis.system, value: input.legalBasis.code } },
      type: {
        system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
        code: '4',
        display: 'Other',
      },
      description: `basis: legal exception ${input.legalBasis.code}`,
      detail: input.justification ? [{ type: 'justification', valueString: input.justification }] : undefined,
    });
  }
  for (const what of input.entities ?? []) {
    entities.push({
      what,
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2' },
    });
  }
  const details = Object.entries(input.details ?? {}).flatMap(([type, v]) =>
    (Array.isArray(v) ? v : [v]).map((valueString) => ({ type, valueString })),
  );
  if (details.length) {
    entities.push({
      what: { display: 'decision' },
      type: {
        system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
        code: '4',
        display: 'Other',
      },
      detail: details,
    });
  }
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: kind.type,
    subtype: [{ system: AUDIT_SUBTYPE_SYSTEM, code: input.subtype }],
    action: input.action ?? kind.action,
    recorded: (input.recorded ?? new Date()).toISOString(),
    outcome: OUTCOME_CODE[input.outcome],
    outcomeDesc: input.description,
    purposeOfEvent: input.purpose ? [{ coding: [input.purpose] }] : undefined,
    agent: agents,
    source: {
      observer: { display: 'Ketenpoort gateway' },
      type: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
          code: '4',
          display: 'Application Server',
        },
      ],
    },
    entity: entities.length ? entities : undefined,
  };
  return {
    event,
    index: {
      action: input.action ?? kind.action ?? 'E',
      subtype: input.subtype,
      outcome: input.outcome,
      ...personIndex(persons),
      agentOrg: input.requester.org || undefined,
      recipientOrg: input.recipientOrg,
      purpose: input.purpose?.code,
      legalBasis: input.legalBasis?.code,
    },
  };
}
