// The people of a CJG referral form: parents and carers (a RelatedPerson per parent and child) and the children
// (Patients), with the name, address and contact fields they carry.
import type { Patient, RelatedPerson } from '@medplum/fhirtypes';
import { BSN_SYSTEM } from '../consent/constants.js';
import {
  elementField,
  extensionField,
  getExtension,
  identifierField,
  KP_EXT,
  personField,
  setExtension,
  stringExtension,
  type Entity,
  type Field,
} from './fields.js';

const ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';

const RELATIONS = {
  mother: 'MTH',
  father: 'FTH',
  stepmother: 'STPMTH',
  stepfather: 'STPFTH',
  other: 'FAMMEMB',
};

type Person = Patient | RelatedPerson;

/** Name parts shared by parents and children: family name, call name, initials. */
function nameFields<R extends Person>(who: string, requiredFamily: boolean): Field<R>[] {
  const name = (r: R) => (r.name ??= [{}])[0]!;
  return [
    personField<R>(
      'family',
      'familyName',
      (r) => r,
      '',
      `Family name of the ${who} (familienaam)`,
      requiredFamily,
    ),
    personField<R>('given', 'givenName', (r) => r, '', `Call name of the ${who} (roepnaam)`),
    {
      name: 'initials',
      type: 'string',
      fhir: `name[0].extension(${KP_EXT}/initials).valueString`,
      description: `Initials of the ${who} (voorletters)`,
      put: (r, v: string) => setExtension(name(r), `${KP_EXT}/initials`, { valueString: v }),
      take: (r) => getExtension(r.name?.[0], `${KP_EXT}/initials`)?.valueString,
    },
  ];
}

function personFields<R extends Person>(who: string): Field<R>[] {
  return [
    stringExtension<R>('nationality', 'nationality', `Nationality of the ${who}`),
    stringExtension<R>('birthCountry', 'birth-country', `Country of birth of the ${who} (geboorteland)`),
  ];
}

/** A part of the parent's first address: street (its first line), postal code, place. */
function addressField(
  name: string,
  part: 'line' | 'postalCode' | 'city',
  description: string,
): Field<RelatedPerson> {
  const address = (r: RelatedPerson) => (r.address ??= [{}])[0]!;
  return {
    name,
    type: 'string',
    fhir: `RelatedPerson.address[0].${part === 'line' ? 'line[0]' : part}`,
    description,
    put: (r, v: string) => void (part === 'line' ? (address(r).line = [v]) : (address(r)[part] = v)),
    take: (r) => (part === 'line' ? r.address?.[0]?.line?.[0] : r.address?.[0]?.[part]),
  };
}

/** A telephone number of the parent, by its use (home or mobile). */
function phoneField(name: string, use: 'home' | 'mobile', description: string): Field<RelatedPerson> {
  return {
    name,
    type: 'string',
    fhir: `RelatedPerson.telecom (phone, use ${use})`,
    description,
    put: (r, v: string) => void (r.telecom = [...(r.telecom ?? []), { system: 'phone', use, value: v }]),
    take: (r) => r.telecom?.find((t) => t.system === 'phone' && t.use === use)?.value,
  };
}

export const parentEntity: Entity<RelatedPerson> = {
  name: 'parent',
  cardinality: 'many',
  resource: 'RelatedPerson (one per parent and child)',
  fields: [
    identifierField<RelatedPerson>(
      'bsn',
      'bsn',
      BSN_SYSTEM,
      (r) => r,
      'RelatedPerson',
      'BSN of the parent or carer, when known (11-test checked)',
    ),
    {
      name: 'relation',
      type: 'code',
      required: true,
      codes: Object.keys(RELATIONS),
      fhir: `RelatedPerson.relationship (${ROLE_SYSTEM}: MTH, FTH, STPMTH, STPFTH, FAMMEMB)`,
      description: 'Relation to the child (relatie tot jeugdige)',
      put: (r, v: keyof typeof RELATIONS) =>
        void (r.relationship = [{ coding: [{ system: ROLE_SYSTEM, code: RELATIONS[v] }] }]),
      take: (r) => {
        const code = r.relationship
          ?.flatMap((c) => c.coding ?? [])
          .find((c) => c.system === ROLE_SYSTEM)?.code;
        return Object.entries(RELATIONS).find(([, c]) => c === code)?.[0];
      },
    },
    {
      name: 'relationOther',
      type: 'string',
      fhir: 'RelatedPerson.relationship.text',
      description: 'The relation in words when it is "other" (anders, nl.)',
      put: (r, v: string) => {
        r.relationship ??= [{}];
        r.relationship[0]!.text = v;
      },
      take: (r) => r.relationship?.[0]?.text,
    },
    extensionField(
      'parentalAuthority',
      'valueBoolean',
      'parental-authority',
      (r: RelatedPerson) => r,
      'RelatedPerson',
      'Holds parental authority (oefent gezag uit)',
      { required: true },
    ),
    ...nameFields<RelatedPerson>('parent', true),
    personField<RelatedPerson>(
      'birthDate',
      'birthDate',
      (r) => r,
      'RelatedPerson',
      'Birth date of the parent',
    ),
    ...personFields<RelatedPerson>('parent'),
    addressField('street', 'line', 'Street and house number'),
    addressField('postalCode', 'postalCode', 'Postal code'),
    addressField('city', 'city', 'Place of residence'),
    phoneField('phone', 'home', 'Telephone number'),
    phoneField('mobile', 'mobile', 'Mobile number'),
    stringExtension<RelatedPerson>('occupation', 'occupation', 'Occupation of the parent (beroep)'),
  ],
};

const SEX = ['male', 'female', 'other', 'unknown'] as const;

export const childEntity: Entity<Patient> = {
  name: 'child',
  cardinality: 'many',
  resource: 'Patient',
  fields: [
    identifierField<Patient>(
      'bsn',
      'bsn',
      BSN_SYSTEM,
      (r) => r,
      'Patient',
      'BSN of the child (11-test checked)',
      {
        required: true,
      },
    ),
    elementField('sex', 'code', (r: Patient) => r, 'gender', 'Patient.gender', 'Sex (geslacht)', {
      required: true,
      codes: SEX,
    }),
    ...nameFields<Patient>('child', true),
    personField<Patient>(
      'birthDate',
      'birthDate',
      (r) => r,
      'Patient',
      'Birth date (drives the consent age rules)',
      true,
    ),
    ...personFields<Patient>('child'),
    {
      name: 'school',
      type: 'string',
      fhir: "Patient.contact (relationship 'school').organization.display",
      description: 'School',
      put: (r, v: string) => void (schoolContact(r).organization = { display: v }),
      take: (r) => findSchool(r)?.organization?.display,
    },
    {
      name: 'schoolContact',
      type: 'string',
      fhir: "Patient.contact (relationship 'school').name.text",
      description: 'Contact person at school',
      put: (r, v: string) => void (schoolContact(r).name = { text: v }),
      take: (r) => findSchool(r)?.name?.text,
    },
    extensionField(
      'livingSituation',
      'valueCode',
      'living-situation',
      (r: Patient) => r,
      'Patient',
      'Living at home or away from home (thuis- / uithuiswonend)',
      { codes: ['home', 'away'] },
    ),
    extensionField(
      'courtOrder',
      'valueBoolean',
      'court-order',
      (r: Patient) => r,
      'Patient',
      'Under a family supervision order (OTS)',
    ),
  ],
};

function findSchool(p: Patient) {
  return p.contact?.find((c) => c.relationship?.some((r) => r.text === 'school'));
}
function schoolContact(p: Patient) {
  let c = findSchool(p);
  if (!c) {
    c = { relationship: [{ text: 'school' }] };
    p.contact = [...(p.contact ?? []), c];
  }
  return c;
}
