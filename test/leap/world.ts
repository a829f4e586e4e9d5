// The world of the LEAP scenarios, in our own synthetic Dutch data: an adult (Sanne Bakker, a test BSN) registered by
// the CJG, consents written as LEAP's scenarios describe them, the GP (URA 90000107) as the organisation a consent
// singles out, youth care (URA 90000102) as another recipient, and a practitioner known by UZI number only.
import type { Bundle, Consent, ConsentProvision, ConsentProvisionActor } from '@medplum/fhirtypes';
import { BSN_SYSTEM } from '../../src/store/resources.js';
import { fhir, isoDateYearsAgo, patientResource, testBsn } from '../helpers.js';

export const URA = 'http://fhir.nl/fhir/NamingSystem/ura';
export const UZI = 'http://fhir.nl/fhir/NamingSystem/uzi-nr-pers';
export const GP = { system: URA, value: '90000107' };
export const YOUTH_CARE = { system: URA, value: '90000102' };
export const DR_VISSER = { system: UZI, value: '900012345' };
export const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const RESOURCE_TYPES = 'http://hl7.org/fhir/resource-types';
export const PRIVACY = { system: CONSENT_SCOPE, code: 'patient-privacy' };
export const REDACT = { system: ACT_CODE, code: 'REDACT' };

export const purpose = (code: string) => ({
  system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  code,
});
const recipient = (reference: ConsentProvisionActor['reference']): ConsentProvisionActor => ({
  role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
  reference,
});
/** A provision actor: an organisation of the directory by reference, or a practitioner by UZI number. */
export const toGp = recipient({ reference: 'Organization/huisartsen-de-linde' });
export const toDrVisser = recipient({ identifier: DR_VISSER });
export const accessAndCorrect = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'access' }] },
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'correct' }] },
];

export interface Person {
  bsn: string;
  ref: string;
}

/** A new adult registered by the CJG (the requester): every scenario has a person of its own. */
export async function newPerson(url: string, token: string): Promise<Person> {
  const bsn = testBsn();
  const res = await fhir<{ id: string }>(url, token, 'POST', '/fhir/Patient', {
    ...patientResource(bsn, isoDateYearsAgo(34)),
    name: [{ family: 'Bakker', given: ['Sanne'] }],
  });
  if (res.status !== 201) throw new Error(`Patient: ${res.status} ${JSON.stringify(res.body)}`);
  return { bsn, ref: `Patient/${res.body.id}` };
}

/** A Consent the person gave herself: privacy scope, the given root provision, and what else the scenario sets. */
export function consentOf(
  person: Person,
  provision: ConsentProvision,
  extra: Partial<Consent> = {},
): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [PRIVACY] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: person.ref },
    performer: [{ reference: person.ref }],
    dateTime: '2024-03-01',
    policyRule: { coding: [{ system: ACT_CODE, code: provision.type === 'deny' ? 'OPTOUT' : 'OPTIN' }] },
    provision,
    ...extra,
  };
}

/** Registers a consent as the CJG; its id. */
export async function register(url: string, token: string, consent: Consent): Promise<string> {
  const res = await fhir<{ id: string }>(url, token, 'POST', '/fhir/Consent', consent);
  if (res.status !== 201) throw new Error(`Consent: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** The period of a consent that is in force now. */
export const inForce = { start: '2023-01-01', end: '2099-12-31' };

/** LEAP's sample request (test/fixtures/request-samples), with only the identifiers replaced by ours. */
export function leapSample(person: Person, actor = YOUTH_CARE) {
  return {
    hook: 'patient-consent-consult',
    hookInstance: '1234',
    context: {
      patientId: [{ system: BSN_SYSTEM, value: person.bsn }],
      category: [PRIVACY],
      actor: [actor],
    },
  };
}

/** Two care plans about the person, the first labelled restricted (R) by its sender. */
export function contentOf(person: Person): Bundle {
  const plan = (title: string, labels: { system: string; code: string }[]) => ({
    resourceType: 'CarePlan' as const,
    id: title,
    meta: labels.length ? { security: labels } : undefined,
    status: 'active' as const,
    intent: 'plan' as const,
    title,
    subject: { identifier: { system: BSN_SYSTEM, value: person.bsn } },
  });
  return {
    resourceType: 'Bundle',
    type: 'collection',
    total: 2,
    entry: [
      {
        fullUrl: 'urn:uuid:5a1e0000-0000-4000-8000-000000000001',
        resource: plan('plan-r', [{ system: CONFIDENTIALITY, code: 'R' }]),
      },
      { fullUrl: 'urn:uuid:5a1e0000-0000-4000-8000-000000000002', resource: plan('plan-n', []) },
    ],
  };
}

/** A JSON POST with an optional bearer token (a gateway token or a CDS client JWT); the status and parsed body. */
export async function postJson<T>(
  url: string,
  path: string,
  body: unknown,
  bearer?: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}
