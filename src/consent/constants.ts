// Identifiers of the gateway's own code systems and extensions, shared by the engine and the HTTP layer.
export const PARENTAL_AUTHORITY_URL = 'https://ketenpoort.nl/fhir/StructureDefinition/parental-authority';
export const DECISION_REASON_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/decision-reason';
export const AGENCY_ROLE_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/agency-role';
export const FAMILY_ID_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/family-id';
export const PSEUDONYM_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/pseudonym';
export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
export const TASK_CODE_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/task-code';
