// The CJG referral form (aanmeldformulier: date, referrer, parents, children, family, reason, involved agencies) as
// native JSON or CSV, and its FHIR form: ServiceRequest + family Group + child Patients + parent RelatedPersons (one
// per parent and child) + involved agencies as Organizations. Each field is declared once in the tables below.
import type {
  Bundle,
  BundleEntry,
  Group,
  OperationOutcomeIssue,
  Organization,
  Patient,
  Reference,
  RelatedPerson,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { BSN_SYSTEM } from '../consent/constants.js';
import { LIFE_DOMAIN_SYSTEM } from '../consent/catalogue.js';
import {
  apply,
  getExtension,
  KP_EXT,
  read,
  setExtension,
  stringExtension,
  urn,
  type Entity,
  type Field,
  type NativeRecord,
  unmapped,
  unusedEntries,
  identifierField,
  personField,
} from './fields.js';

export const REFERRAL_ID_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/cjg-referral-id';
export const REFERRAL_SOURCE_SYSTEM = 'https://ketenpoort.nl/fhir/CodeSystem/referral-source';
const ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const PARENTAL_AUTHORITY = `${KP_EXT}/parental-authority`;

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
const RELATIONS = {
  mother: 'MTH',
  father: 'FTH',
  stepmother: 'STPMTH',
  stepfather: 'STPFTH',
  other: 'FAMMEMB',
};

export interface ReferralParts {
  request: ServiceRequest;
  group: Group;
}
export interface AgencyParts {
  organization: Organization;
  involvement: Reference;
}

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
    {
      name: 'referralDate',
      type: 'date',
      required: true,
      fhir: 'ServiceRequest.authoredOn',
      description: 'Date of the referral (datum aanmelding)',
      put: (r, v: string) => void (r.request.authoredOn = v),
      take: (r) => r.request.authoredOn,
    },
    {
      name: 'referrerName',
      type: 'string',
      required: true,
      fhir: 'ServiceRequest.requester.display',
      description: 'The professional who refers (aanmelder)',
      put: (r, v: string) => void (r.request.requester = { ...r.request.requester, display: v }),
      take: (r) => r.request.requester?.display,
    },
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
    {
      name: 'familyType',
      type: 'code',
      codes: FAMILY_TYPES,
      fhir: `Group.extension(${KP_EXT}/family-type).valueCode`,
      description: 'Family composition (gezinskenmerken)',
      put: (r, v: string) => setExtension(r.group, `${KP_EXT}/family-type`, { valueCode: v }),
      take: (r) => getExtension(r.group, `${KP_EXT}/family-type`)?.valueCode,
    },
    {
      name: 'reason',
      type: 'string',
      required: true,
      fhir: 'ServiceRequest.reasonCode (text only)',
      description: 'Reason for the referral (reden aanmelding)',
      put: (r, v: string) => void (r.request.reasonCode = [{ text: v }, ...(r.request.reasonCode ?? [])]),
      take: (r) => r.request.reasonCode?.find((c) => !c.coding)?.text,
    },
    {
      name: 'coreProblem',
      type: 'string',
      fhir: `ServiceRequest.extension(${KP_EXT}/core-problem).valueString`,
      description: 'The core of the problems (kern van de problematiek)',
      put: (r, v: string) => setExtension(r.request, `${KP_EXT}/core-problem`, { valueString: v }),
      take: (r) => getExtension(r.request, `${KP_EXT}/core-problem`)?.valueString,
    },
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
    {
      name: 'parentsOccupation',
      type: 'string',
      fhir: `Group.extension(${KP_EXT}/parents-occupation).valueString`,
      description: "Parents' occupation as the form states it (beroep vader / moeder)",
      put: (r, v: string) => setExtension(r.group, `${KP_EXT}/parents-occupation`, { valueString: v }),
      take: (r) => getExtension(r.group, `${KP_EXT}/parents-occupation`)?.valueString,
    },
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
    {
      name: 'parentalAuthority',
      type: 'boolean',
      required: true,
      fhir: `RelatedPerson.extension(${PARENTAL_AUTHORITY}).valueBoolean`,
      description: 'Holds parental authority (oefent gezag uit)',
      put: (r, v: boolean) => setExtension(r, PARENTAL_AUTHORITY, { valueBoolean: v }),
      take: (r) => getExtension(r, PARENTAL_AUTHORITY)?.valueBoolean,
    },
    ...nameFields<RelatedPerson>('parent', true),
    personField<RelatedPerson>(
      'birthDate',
      'birthDate',
      (r) => r,
      'RelatedPerson',
      'Birth date of the parent',
    ),
    ...personFields<RelatedPerson>('parent'),
    {
      name: 'street',
      type: 'string',
      fhir: 'RelatedPerson.address[0].line[0]',
      description: 'Street and house number',
      put: (r, v: string) => void ((r.address ??= [{}])[0]!.line = [v]),
      take: (r) => r.address?.[0]?.line?.[0],
    },
    {
      name: 'postalCode',
      type: 'string',
      fhir: 'RelatedPerson.address[0].postalCode',
      description: 'Postal code',
      put: (r, v: string) => void ((r.address ??= [{}])[0]!.postalCode = v),
      take: (r) => r.address?.[0]?.postalCode,
    },
    {
      name: 'city',
      type: 'string',
      fhir: 'RelatedPerson.address[0].city',
      description: 'Place of residence',
      put: (r, v: string) => void ((r.address ??= [{}])[0]!.city = v),
      take: (r) => r.address?.[0]?.city,
    },
    {
      name: 'phone',
      type: 'string',
      fhir: 'RelatedPerson.telecom (phone, use home)',
      description: 'Telephone number',
      put: (r, v: string) =>
        void (r.telecom = [...(r.telecom ?? []), { system: 'phone', use: 'home', value: v }]),
      take: (r) => r.telecom?.find((t) => t.system === 'phone' && t.use === 'home')?.value,
    },
    {
      name: 'mobile',
      type: 'string',
      fhir: 'RelatedPerson.telecom (phone, use mobile)',
      description: 'Mobile number',
      put: (r, v: string) =>
        void (r.telecom = [...(r.telecom ?? []), { system: 'phone', use: 'mobile', value: v }]),
      take: (r) => r.telecom?.find((t) => t.system === 'phone' && t.use === 'mobile')?.value,
    },
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
    {
      name: 'sex',
      type: 'code',
      required: true,
      codes: SEX,
      fhir: 'Patient.gender',
      description: 'Sex (geslacht)',
      put: (r, v: Patient['gender']) => void (r.gender = v),
      take: (r) => r.gender,
    },
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
    {
      name: 'livingSituation',
      type: 'code',
      codes: ['home', 'away'],
      fhir: `Patient.extension(${KP_EXT}/living-situation).valueCode`,
      description: 'Living at home or away from home (thuis- / uithuiswonend)',
      put: (r, v: string) => setExtension(r, `${KP_EXT}/living-situation`, { valueCode: v }),
      take: (r) => getExtension(r, `${KP_EXT}/living-situation`)?.valueCode,
    },
    {
      name: 'courtOrder',
      type: 'boolean',
      fhir: `Patient.extension(${KP_EXT}/court-order).valueBoolean`,
      description: 'Under a family supervision order (OTS)',
      put: (r, v: boolean) => setExtension(r, `${KP_EXT}/court-order`, { valueBoolean: v }),
      take: (r) => getExtension(r, `${KP_EXT}/court-order`)?.valueBoolean,
    },
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

const INVOLVEMENT = `${KP_EXT}/involvement`;

export const agencyEntity: Entity<AgencyParts> = {
  name: 'agency',
  cardinality: 'many',
  resource: 'Organization + ServiceRequest.supportingInfo',
  fields: [
    {
      name: 'name',
      type: 'string',
      required: true,
      fhir: 'Organization.name',
      description: 'Name of the involved agency (naam instantie)',
      put: (r, v: string) => void (r.organization.name = v),
      take: (r) => r.organization.name,
    },
    {
      name: 'active',
      type: 'boolean',
      fhir: `ServiceRequest.supportingInfo.extension(${INVOLVEMENT}).extension(active).valueBoolean`,
      description: 'Help still ongoing (lopend ja/nee)',
      put: (r, v: boolean) => involvementPart(r, 'active', { valueBoolean: v }),
      take: (r) => getExtension(getExtension(r.involvement, INVOLVEMENT), 'active')?.valueBoolean,
    },
    {
      name: 'helpType',
      type: 'string',
      fhir: `ServiceRequest.supportingInfo.extension(${INVOLVEMENT}).extension(help-type).valueString`,
      description: 'Kind of help (aard van de hulp)',
      put: (r, v: string) => involvementPart(r, 'help-type', { valueString: v }),
      take: (r) => getExtension(getExtension(r.involvement, INVOLVEMENT), 'help-type')?.valueString,
    },
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

function involvementPart(r: AgencyParts, url: string, value: object): void {
  const current = getExtension(r.involvement, INVOLVEMENT) ?? { url: INVOLVEMENT, extension: [] };
  setExtension(current, url, value);
  setExtension(r.involvement, INVOLVEMENT, { extension: current.extension });
}

export const ENTITIES = [referralEntity, parentEntity, childEntity, agencyEntity] as const;

/** The native record. */
export type { NativeRecord };
export interface NativeReferral extends NativeRecord {
  parents?: NativeRecord[];
  children: NativeRecord[];
  agencies?: NativeRecord[];
}

/** Maps a (schema-checked) referral form onto a FHIR collection Bundle. */
export function referralToFhir(native: NativeReferral): Bundle {
  const id = String(native.referralId);
  const request: ServiceRequest = {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'proposal',
    code: { text: 'Aanmelding coördinatie van zorg' },
    subject: { reference: urn(id, 'family') },
  };
  const group: Group = { resourceType: 'Group', type: 'person', actual: true, member: [] };
  const { parents = [], children, agencies = [], ...top } = native;
  apply(referralEntity, top, { request, group });
  const entries: BundleEntry[] = [];
  const childUrls = children.map((_, i) => urn(id, `child/${i}`));
  children.forEach((child, i) => {
    const patient: Patient = { resourceType: 'Patient' };
    apply(childEntity, child, patient);
    entries.push({ fullUrl: childUrls[i], resource: patient });
    group.member!.push({ entity: { reference: childUrls[i] } });
  });
  parents.forEach((parent, p) => {
    childUrls.forEach((childUrl, c) => {
      const person: RelatedPerson = { resourceType: 'RelatedPerson', patient: { reference: childUrl } };
      apply(parentEntity, parent, person);
      const url = urn(id, `parent/${p}/child/${c}`);
      entries.push({ fullUrl: url, resource: person });
      group.member!.push({ entity: { reference: url } });
    });
  });
  request.supportingInfo = agencies.map((agency, a) => {
    const organization: Organization = { resourceType: 'Organization' };
    const involvement: Reference = { reference: urn(id, `agency/${a}`) };
    apply(agencyEntity, agency, { organization, involvement });
    entries.push({ fullUrl: involvement.reference, resource: organization });
    return involvement;
  });
  if (request.supportingInfo.length === 0) delete request.supportingInfo;
  if (group.member!.length === 0) delete group.member;
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: urn(id, 'request'), resource: request },
      { fullUrl: urn(id, 'family'), resource: group },
      ...entries,
    ],
  };
}

/** Maps a referral Bundle back onto the form; what the form cannot hold is reported as issues. */
export function referralFromFhir(bundle: Bundle): {
  native: NativeReferral;
  issues: OperationOutcomeIssue[];
} {
  const issues: OperationOutcomeIssue[] = [];
  const byUrl = new Map<string, Resource>();
  const entries = bundle.entry ?? [];
  entries.forEach((e) => e.fullUrl && e.resource && byUrl.set(e.fullUrl, e.resource));
  const of = <T extends Resource>(type: T['resourceType']) =>
    entries.map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
  const requests = of<ServiceRequest>('ServiceRequest');
  if (requests.length !== 1)
    throw new MappingError(
      `a referral Bundle holds exactly one ServiceRequest, not ${requests.length}`,
      'Bundle.entry',
    );
  const request = requests[0]!;
  const group = (request.subject?.reference && byUrl.get(request.subject.reference)) as Group | undefined;
  if (group?.resourceType !== 'Group')
    throw new MappingError(
      'the ServiceRequest must have the family Group of the Bundle as its subject',
      'ServiceRequest.subject',
    );
  const native: NativeReferral = { ...read(referralEntity, { request, group }), children: [] };
  const members = (group.member ?? []).map((m) =>
    m.entity?.reference ? byUrl.get(m.entity.reference) : undefined,
  );
  const patients = members.filter((r): r is Patient => r?.resourceType === 'Patient');
  native.children = patients.map((p) => read(childEntity, p));
  // One parent per person: their RelatedPersons (one per child) are grouped by BSN, else by the whole record.
  const parents = new Map<string, NativeRecord>();
  for (const r of members.filter((m): m is RelatedPerson => m?.resourceType === 'RelatedPerson')) {
    const record = read(parentEntity, r);
    const key = typeof record.bsn === 'string' ? record.bsn : JSON.stringify(record);
    const seen = parents.get(key);
    if (seen && JSON.stringify(seen) !== JSON.stringify(record))
      issues.push(
        unmapped(
          `RelatedPerson ${key}`,
          'the parent is recorded differently for different children; the form keeps the first',
        ),
      );
    if (!seen) parents.set(key, record);
  }
  if (parents.size) native.parents = [...parents.values()];
  const agencies = (request.supportingInfo ?? []).map((ref) => {
    const organization = ref.reference ? byUrl.get(ref.reference) : undefined;
    if (organization?.resourceType !== 'Organization') {
      issues.push(
        unmapped(
          'ServiceRequest.supportingInfo',
          `${ref.reference ?? 'a reference'} is not an Organization of the Bundle`,
        ),
      );
      return undefined;
    }
    return read(agencyEntity, { organization, involvement: ref });
  });
  const known = agencies.filter((a): a is NativeRecord => !!a);
  if (known.length) native.agencies = known;
  const used = new Set<Resource | undefined>([request, group, ...members]);
  for (const ref of request.supportingInfo ?? [])
    used.add(ref.reference ? byUrl.get(ref.reference) : undefined);
  issues.push(...unusedEntries(entries, used, 'form'));
  return { native, issues };
}

export class MappingError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
  }
}
