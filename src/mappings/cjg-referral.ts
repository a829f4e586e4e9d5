// The CJG referral form (aanmeldformulier: date, referrer, parents, children, family, reason, involved agencies) as
// native JSON or CSV: its field tables, each field declared once with its place in FHIR (the Bundle is assembled in
// referral-bundle.ts).
import type { Group, Organization, Reference, ServiceRequest } from '@medplum/fhirtypes';
import { LIFE_DOMAIN_SYSTEM } from '../consent/catalogue.js';
import {
  elementField,
  memberField,
  extensionField,
  getExtension,
  identifierField,
  KP_EXT,
  setExtension,
  type Entity,
  type Field,
  type NativeRecord,
} from './fields.js';
import { childEntity, parentEntity } from './referral-people.js';

export const REFERRAL_ID_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/cjg-referral-id';
export const REFERRAL_SOURCE_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/referral-source';

export const LIFE_DOMAINS = [
  'parenting',
  'addiction',
  'justice',
  'finances',
  'housing',
  'education',
  'mental-health',
  'physical-health',
  'work-income',
  'social-network',
  'domestic-violence',
  'daily-living',
] as const;
export const REFERRAL_SOURCES = [
  'self',
  'school',
  'gp',
  'jgz',
  'cjg',
  'youth-care',
  'municipality',
  'police',
  'veilig-thuis',
  'other',
] as const;
const FAMILY_TYPES = [
  'two-parent-both-biological',
  'two-parent-one-biological',
  'single-parent',
  'other',
] as const;
export interface ReferralParts {
  request: ServiceRequest;
  group: Group;
}
export interface AgencyParts {
  organization: Organization;
  involvement: Reference;
}

export const referralEntity: Entity<ReferralParts> = {
  name: 'referral',
  cardinality: 'one',
  resource: 'ServiceRequest + Group',
  fields: [
    identifierField<ReferralParts>(
      'referralId',
      'string',
      REFERRAL_ID_SYSTEM,
      (r) => r.request,
      'ServiceRequest',
      "The coordination point's number of this referral",
      { required: true },
    ),
    elementField(
      'referralDate',
      'date',
      (r: ReferralParts) => r.request,
      'authoredOn',
      'ServiceRequest.authoredOn',
      'Date of the referral (datum aanmelding)',
      { required: true },
    ),
    memberField(
      'referrerName',
      'string',
      (r: ReferralParts) => r.request,
      'requester',
      'display',
      'ServiceRequest.requester.display',
      'The professional who refers (aanmelder)',
      { required: true },
    ),
    {
      name: 'referrerAgency',
      type: 'string',
      required: true,
      fhir: `ServiceRequest.requester.extension(${KP_EXT}/referrer-agency).valueString`,
      description: "The referrer's agency",
      put: (r, v: string) => {
        r.request.requester ??= {};
        setExtension(r.request.requester, `${KP_EXT}/referrer-agency`, { valueString: v });
      },
      take: (r) => getExtension(r.request.requester, `${KP_EXT}/referrer-agency`)?.valueString,
    },
    {
      name: 'referralSource',
      type: 'code',
      codes: REFERRAL_SOURCES,
      fhir: `ServiceRequest.category (${REFERRAL_SOURCE_SYSTEM})`,
      description: 'Kind of referrer, for the municipal report (verwijzer)',
      put: (r, v: string) =>
        void (r.request.category = [{ coding: [{ system: REFERRAL_SOURCE_SYSTEM, code: v }] }]),
      take: (r) =>
        r.request.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === REFERRAL_SOURCE_SYSTEM)
          ?.code,
    },
    extensionField(
      'familyType',
      'valueCode',
      'family-type',
      (r: ReferralParts) => r.group,
      'Group',
      'Family composition (gezinskenmerken)',
      { codes: FAMILY_TYPES },
    ),
    {
      name: 'reason',
      type: 'string',
      required: true,
      fhir: 'ServiceRequest.reasonCode (text only)',
      description: 'Reason for the referral (reden aanmelding)',
      put: (r, v: string) => void (r.request.reasonCode = [{ text: v }, ...(r.request.reasonCode ?? [])]),
      take: (r) => r.request.reasonCode?.find((c) => !c.coding)?.text,
    },
    extensionField(
      'coreProblem',
      'valueString',
      'core-problem',
      (r: ReferralParts) => r.request,
      'ServiceRequest',
      'The core of the problems (kern van de problematiek)',
    ),
    {
      name: 'lifeDomains',
      type: 'codes',
      codes: LIFE_DOMAINS,
      fhir: `ServiceRequest.reasonCode (${LIFE_DOMAIN_SYSTEM})`,
      description: 'Life domains the problems touch (leefgebieden)',
      put: (r, v: string[]) =>
        void (r.request.reasonCode = [
          ...(r.request.reasonCode ?? []),
          ...v.map((code) => ({ coding: [{ system: LIFE_DOMAIN_SYSTEM, code }] })),
        ]),
      take: (r) => {
        const codes = (r.request.reasonCode ?? []).flatMap((c) =>
          (c.coding ?? []).filter((x) => x.system === LIFE_DOMAIN_SYSTEM).map((x) => x.code!),
        );
        return codes.length ? codes : undefined;
      },
    },
    extensionField(
      'parentsOccupation',
      'valueString',
      'parents-occupation',
      (r: ReferralParts) => r.group,
      'Group',
      "Parents' occupation as the form states it (beroep vader / moeder)",
    ),
    {
      name: 'remarks',
      type: 'string',
      fhir: 'ServiceRequest.note[0].text',
      description: 'Remarks (opmerkingen)',
      put: (r, v: string) => void (r.request.note = [{ text: v }]),
      take: (r) => r.request.note?.[0]?.text,
    },
  ],
};

const INVOLVEMENT = `${KP_EXT}/involvement`;

export const agencyEntity: Entity<AgencyParts> = {
  name: 'agency',
  cardinality: 'many',
  resource: 'Organization + ServiceRequest.supportingInfo',
  fields: [
    elementField(
      'name',
      'string',
      (r: AgencyParts) => r.organization,
      'name',
      'Organization.name',
      'Name of the involved agency (naam instantie)',
      { required: true },
    ),
    involvementField('active', 'valueBoolean', 'Help still ongoing (lopend ja/nee)'),
    involvementField('helpType', 'valueString', 'Kind of help (aard van de hulp)', 'help-type'),
    {
      name: 'contactPerson',
      type: 'string',
      fhir: 'Organization.contact[0].name.text',
      description: 'Contact person at the agency',
      put: (r, v: string) => void ((r.organization.contact ??= [{}])[0]!.name = { text: v }),
      take: (r) => r.organization.contact?.[0]?.name?.text,
    },
    {
      name: 'phone',
      type: 'string',
      fhir: 'Organization.contact[0].telecom (phone)',
      description: "The contact person's telephone number",
      put: (r, v: string) =>
        void ((r.organization.contact ??= [{}])[0]!.telecom = [{ system: 'phone', value: v }]),
      take: (r) => r.organization.contact?.[0]?.telecom?.find((t) => t.system === 'phone')?.value,
    },
  ],
};

/** A part of the involvement extension on the agency's supportingInfo reference (lopend, aard van de hulp). */
function involvementField(
  name: string,
  value: 'valueBoolean' | 'valueString',
  description: string,
  part = name,
): Field<AgencyParts> {
  return {
    name,
    type: value === 'valueBoolean' ? 'boolean' : 'string',
    fhir: `ServiceRequest.supportingInfo.extension(${INVOLVEMENT}).extension(${part}).${value}`,
    description,
    put: (r, v: string | boolean) => {
      const current = getExtension(r.involvement, INVOLVEMENT) ?? { url: INVOLVEMENT, extension: [] };
      setExtension(current, part, { [value]: v });
      setExtension(r.involvement, INVOLVEMENT, { extension: current.extension });
    },
    take: (r) => getExtension(getExtension(r.involvement, INVOLVEMENT), part)?.[value],
  };
}

export const ENTITIES = [referralEntity, parentEntity, childEntity, agencyEntity] as const;

/** The native record. */
export type { NativeRecord };
export interface NativeReferral extends NativeRecord {
  parents?: NativeRecord[];
  children: NativeRecord[];
  agencies?: NativeRecord[];
}
