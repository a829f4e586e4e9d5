// The resource types an exchange payload may carry, and the validation tier of each kind of incoming resource.

/**
 * What agency systems exchange through the gateway: people and agencies, coordination, and clinical content
 * (nl-core/zib style). Every type here has `$validate` and a row in the classification table
 * (profiles/rules/classification.json); a payload entry of another type is refused.
 */
export const PAYLOAD_TYPES = [
  'Patient',
  'RelatedPerson',
  'Group',
  'Consent',
  'Organization',
  'Endpoint',
  'Practitioner',
  'PractitionerRole',
  'Location',
  'HealthcareService',
  'CarePlan',
  'Goal',
  'Condition',
  'EpisodeOfCare',
  'CareTeam',
  'ServiceRequest',
  'Task',
  'Communication',
  'Encounter',
  'Appointment',
  'Observation',
  'DiagnosticReport',
  'DocumentReference',
  'MedicationStatement',
  'MedicationRequest',
  'Medication',
  'Procedure',
  'Immunization',
  'AllergyIntolerance',
  'FamilyMemberHistory',
  'Flag',
] as const;

/**
 * `kept`: what the gateway itself keeps (person index, Consent, Task, trajectories) and what its native mappings
 * produce — the Ketenpoort profiles apply by default. `payload`: what agencies exchange — base R4, the gateway's safety
 * rules and every Ketenpoort profile the resource claims in meta.profile.
 */
export type ValidationTier = 'kept' | 'payload';

/** At most this many entries in one payload Bundle. */
export const MAX_PAYLOAD_ENTRIES = 1000;
