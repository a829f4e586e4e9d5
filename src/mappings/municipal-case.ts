// A municipal decision (beschikking) under the Jeugdwet or the Wmo with its assignments (toewijzingen: product,
// period, volume, provider, status), in iJw-style field names, and its FHIR form: Patient + the municipality as
// Organization + one ServiceRequest per assignment (profile kp-municipal-decision).
import type {
  Bundle,
  OperationOutcomeIssue,
  Organization,
  Patient,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import {
  apply,
  collection,
  clientBsnField,
  elementField,
  memberField,
  extensionField,
  MappingError,
  getExtension,
  identifierField,
  KP_EXT,
  clientField,
  read,
  setExtension,
  unusedEntries,
  urn,
  type Entity,
  type Field,
  type NativeRecord,
} from './fields.js';

const NS = 'https://ketenpoort.nl/fhir/NamingSystem';
export const DECISION_SYSTEM = `${NS}/beschikkingnummer`;
export const ASSIGNMENT_SYSTEM = `${NS}/toewijzingnummer`;
export const MUNICIPALITY_SYSTEM = `${NS}/cbs-gemeentecode`;
const LAW_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/law';
const CATEGORY_SYSTEM = `${NS}/ijw-productcategorie`;
const PRODUCT_SYSTEM = `${NS}/ijw-productcode`;
const UNIT_SYSTEM = `${NS}/ijw-eenheid`;
const AGB_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/agb-z';
const PROFILE = 'https://ketenpoort.nl/fhir/StructureDefinition/municipal-decision';

/** iJw gender codes: 0 unknown, 1 male, 2 female. */
const GESLACHT: Record<string, Patient['gender']> = { '0': 'unknown', '1': 'male', '2': 'female' };
/** The iJw assignment status, and the ServiceRequest status it means. */
const STATUS: Record<string, ServiceRequest['status']> = {
  toegewezen: 'active',
  gewijzigd: 'active',
  ingetrokken: 'revoked',
  beeindigd: 'completed',
};

export interface CaseParts {
  patient: Patient;
  municipality: Organization;
  /** Every assignment carries the decision's number, law and date; they are written to each and read from the first. */
  requests: ServiceRequest[];
}

const first = (r: CaseParts) => r.requests[0];

export const decisionEntity: Entity<CaseParts> = {
  name: 'Beschikking',
  cardinality: 'one',
  resource: 'Patient + Organization + ServiceRequest (each assignment)',
  fields: [
    {
      name: 'Beschikkingnummer',
      type: 'string',
      required: true,
      fhir: `ServiceRequest.identifier (${DECISION_SYSTEM})`,
      description: 'Number of the decision',
      put: (r, v: string) =>
        r.requests.forEach(
          (s) => (s.identifier = [{ system: DECISION_SYSTEM, value: v }, ...(s.identifier ?? [])]),
        ),
      take: (r) => first(r)?.identifier?.find((i) => i.system === DECISION_SYSTEM)?.value,
    },
    identifierField<CaseParts>(
      'Gemeentecode',
      'string',
      MUNICIPALITY_SYSTEM,
      (r) => r.municipality,
      'Organization',
      'CBS code of the municipality (four digits)',
      { required: true, pattern: '^\\d{4}$' },
    ),
    elementField(
      'Gemeentenaam',
      'string',
      (r: CaseParts) => r.municipality,
      'name',
      'Organization.name',
      'Name of the municipality',
    ),
    {
      name: 'Wet',
      type: 'code',
      required: true,
      codes: ['jeugdwet', 'wmo'],
      fhir: `ServiceRequest.category (${LAW_SYSTEM})`,
      description: 'The law the decision is made under',
      put: (r, v: string) =>
        r.requests.forEach((s) => (s.category = [{ coding: [{ system: LAW_SYSTEM, code: v }] }])),
      take: (r) => first(r)?.category?.[0]?.coding?.find((c) => c.system === LAW_SYSTEM)?.code,
    },
    {
      name: 'Afgiftedatum',
      type: 'date',
      required: true,
      fhir: 'ServiceRequest.authoredOn',
      description: 'Date the decision was issued',
      put: (r, v: string) => r.requests.forEach((s) => (s.authoredOn = v)),
      take: (r) => first(r)?.authoredOn,
    },
    clientBsnField<CaseParts>('ClientBsn'),
    clientField<CaseParts>('birthDate', 'ClientGeboortedatum', 'Birth date of the client', true),
    {
      name: 'ClientGeslacht',
      type: 'code',
      required: true,
      codes: Object.keys(GESLACHT),
      fhir: 'Patient.gender (0 unknown, 1 male, 2 female)',
      description: 'Sex, iJw code',
      put: (r, v: string) => void (r.patient.gender = GESLACHT[v]),
      take: (r) => Object.entries(GESLACHT).find(([, g]) => g === r.patient.gender)?.[0],
    },
    clientField<CaseParts>('family', 'ClientAchternaam', 'Family name of the client', true),
    clientField<CaseParts>('given', 'ClientVoornamen', 'Given names of the client'),
  ],
};

/** A day of the assignment's period (a date that may lie in the future). */
function periodField(
  name: string,
  edge: 'start' | 'end',
  description: string,
  required = false,
): Field<ServiceRequest> {
  const fhir = `ServiceRequest.occurrencePeriod.${edge}`;
  return memberField(name, 'date', (r: ServiceRequest) => r, 'occurrencePeriod', edge, fhir, description, {
    required,
    future: true,
  });
}

export const assignmentEntity: Entity<ServiceRequest> = {
  name: 'Toewijzing',
  cardinality: 'many',
  resource: 'ServiceRequest',
  fields: [
    identifierField<ServiceRequest>(
      'ToewijzingNummer',
      'string',
      ASSIGNMENT_SYSTEM,
      (r) => r,
      'ServiceRequest',
      'Number of the assignment',
      { required: true },
    ),
    {
      name: 'ProductCategorie',
      type: 'string',
      pattern: '^\\d{2}$',
      required: true,
      fhir: `ServiceRequest.code.coding (${CATEGORY_SYSTEM})`,
      description: 'iJw product category (two digits)',
      put: (r, v: string) =>
        void (r.code = { coding: [{ system: CATEGORY_SYSTEM, code: v }, ...(r.code?.coding ?? [])] }),
      take: (r) => r.code?.coding?.find((c) => c.system === CATEGORY_SYSTEM)?.code,
    },
    {
      name: 'ProductCode',
      type: 'string',
      pattern: '^[0-9A-Z]{5}$',
      fhir: `ServiceRequest.code.coding (${PRODUCT_SYSTEM})`,
      description: 'iJw product code (five characters)',
      put: (r, v: string) =>
        void (r.code = { coding: [...(r.code?.coding ?? []), { system: PRODUCT_SYSTEM, code: v }] }),
      take: (r) => r.code?.coding?.find((c) => c.system === PRODUCT_SYSTEM)?.code,
    },
    periodField('Ingangsdatum', 'start', 'First day of the assignment', true),
    periodField('Einddatum', 'end', 'Last day of the assignment'),
    {
      name: 'Volume',
      type: 'string',
      pattern: '^\\d+$',
      fhir: 'ServiceRequest.quantityQuantity.value',
      description: 'Volume, digits only',
      put: (r, v: string) => void (r.quantityQuantity = { ...r.quantityQuantity, value: Number(v) }),
      take: (r) => (r.quantityQuantity?.value === undefined ? undefined : String(r.quantityQuantity.value)),
    },
    {
      name: 'Eenheid',
      type: 'code',
      codes: ['01', '04', '14', '16', '82', '83'],
      fhir: `ServiceRequest.quantityQuantity.code (${UNIT_SYSTEM})`,
      description: 'iJw unit: 01 minute, 04 hour, 14 day (etmaal), 16 part of day, 82 piece, 83 euro',
      put: (r, v: string) =>
        void (r.quantityQuantity = { ...r.quantityQuantity, system: UNIT_SYSTEM, code: v }),
      take: (r) => r.quantityQuantity?.code,
    },
    extensionField(
      'Frequentie',
      'valueCode',
      'ijw-frequency',
      (r: ServiceRequest) => r,
      'ServiceRequest',
      'iJw frequency: 1 per day, 2 per week, 4 per month, 6 in total',
      { codes: ['1', '2', '4', '6'] },
    ),
    {
      name: 'Aanbieder',
      type: 'string',
      pattern: '^\\d{8}$',
      fhir: `ServiceRequest.performer[0].identifier (${AGB_SYSTEM})`,
      description: 'AGB code of the provider',
      put: (r, v: string) => void (r.performer = [{ identifier: { system: AGB_SYSTEM, value: v } }]),
      take: (r) => r.performer?.[0]?.identifier?.value,
    },
    {
      name: 'Status',
      type: 'code',
      required: true,
      codes: Object.keys(STATUS),
      fhir: `ServiceRequest.extension(${KP_EXT}/ijw-status).valueCode, and ServiceRequest.status`,
      description: 'toegewezen, gewijzigd, ingetrokken or beeindigd',
      put: (r, v: string) => {
        setExtension(r, `${KP_EXT}/ijw-status`, { valueCode: v });
        r.status = STATUS[v]!;
      },
      take: (r) => getExtension(r, `${KP_EXT}/ijw-status`)?.valueCode,
    },
  ],
};

export interface NativeCase extends NativeRecord {
  Toewijzingen: NativeRecord[];
}

export function caseToFhir(native: NativeCase): Bundle {
  const id = `municipal/${String(native.Gemeentecode)}/${String(native.Beschikkingnummer)}`;
  const patientUrl = urn(id, 'patient');
  const municipalityUrl = urn(id, 'municipality');
  const { Toewijzingen, ...top } = native;
  const requests = Toewijzingen.map((t) => {
    const request: ServiceRequest = {
      resourceType: 'ServiceRequest',
      meta: { profile: [PROFILE] },
      status: 'active',
      intent: 'order',
      subject: { reference: patientUrl },
      requester: { reference: municipalityUrl },
    };
    apply(assignmentEntity, t, request);
    return request;
  });
  const parts: CaseParts = {
    patient: { resourceType: 'Patient' },
    municipality: { resourceType: 'Organization' },
    requests,
  };
  apply(decisionEntity, top, parts);
  return collection([
    { fullUrl: patientUrl, resource: parts.patient },
    { fullUrl: municipalityUrl, resource: parts.municipality },
    ...requests.map((r, i) => ({ fullUrl: urn(id, `assignment/${i}`), resource: r })),
  ]);
}

export function caseFromFhir(bundle: Bundle): { native: NativeCase; issues: OperationOutcomeIssue[] } {
  const entries = bundle.entry ?? [];
  const byUrl = new Map(entries.filter((e) => e.fullUrl && e.resource).map((e) => [e.fullUrl!, e.resource!]));
  const requests = entries
    .map((e) => e.resource)
    .filter((r): r is ServiceRequest => r?.resourceType === 'ServiceRequest');
  if (requests.length === 0)
    throw new MappingError(
      'a municipal-case Bundle holds at least one ServiceRequest (assignment)',
      'Bundle.entry',
    );
  const patient = byUrl.get(requests[0]!.subject?.reference ?? '');
  const municipality = byUrl.get(requests[0]!.requester?.reference ?? '');
  if (patient?.resourceType !== 'Patient')
    throw new MappingError(
      'ServiceRequest.subject must be a Patient of the Bundle',
      'ServiceRequest.subject',
    );
  if (municipality?.resourceType !== 'Organization')
    throw new MappingError(
      'ServiceRequest.requester must be the municipality (an Organization of the Bundle)',
      'ServiceRequest.requester',
    );
  const issues: OperationOutcomeIssue[] = [];
  const decision = (r: ServiceRequest) => r.identifier?.find((i) => i.system === DECISION_SYSTEM)?.value;
  requests.forEach((r, i) => {
    if (decision(r) !== decision(requests[0]!) || r.subject?.reference !== requests[0]!.subject?.reference)
      issues.push({
        severity: 'warning',
        code: 'informational',
        diagnostics:
          'this assignment belongs to another decision or client; the record keeps the first one’s',
        expression: [`ServiceRequest[${i}]`],
      });
  });
  const native = {
    ...read(decisionEntity, { patient, municipality, requests }),
    Toewijzingen: requests.map((r) => read(assignmentEntity, r)),
  } as NativeCase;
  const used = new Set<Resource>([patient, municipality, ...requests]);
  issues.push(...unusedEntries(entries, used, 'municipal case'));
  return { native, issues };
}
