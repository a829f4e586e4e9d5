// A youth-care provider's registration record (client, care trajectory, care plan and goals) as JSON, and its FHIR
// form: Patient + Organization (the provider) + EpisodeOfCare (the trajectory) + CarePlan + a Goal per life domain.
import { CODE_SYSTEM_BASE, PROFILE_BASE } from './profiles.js';
import type {
  Bundle,
  CarePlan,
  EpisodeOfCare,
  Goal,
  OperationOutcomeIssue,
  Organization,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import { LIFE_DOMAIN_SYSTEM } from '../consent/catalogue.js';
import { LIFE_DOMAINS } from './cjg-referral.js';
import {
  apply,
  collection,
  clientBsnField,
  elementField,
  MappingError,
  getExtension,
  KP_EXT,
  memberField,
  read,
  setExtension,
  urn,
  type Entity,
  type NativeRecord,
  identifierField,
  clientField,
  unusedEntries,
} from './fields.js';

const AGB_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/agb-z';
export const REGISTRATION_ID_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/youthcare-registration-id';
const CS = CODE_SYSTEM_BASE;
const PROFILE = PROFILE_BASE;

export interface RegistrationParts {
  patient: Patient;
  provider: Organization;
  episode: EpisodeOfCare;
  plan: CarePlan;
}

/** A coded value kept as an extension's valueCoding of a Ketenpoort CodeSystem. */
function codingExtension(
  name: string,
  slug: string,
  system: string,
  codes: readonly string[],
  description: string,
  required = false,
): Entity<RegistrationParts>['fields'][number] {
  const url = `${KP_EXT}/${slug}`;
  return {
    name,
    type: 'code',
    codes,
    required,
    fhir: `EpisodeOfCare.extension(${url}).valueCoding (${system})`,
    description,
    put: (r, v: string) => setExtension(r.episode, url, { valueCoding: { system, code: v } }),
    take: (r) => getExtension(r.episode, url)?.valueCoding?.code,
  };
}

export const registrationEntity: Entity<RegistrationParts> = {
  name: 'registration',
  cardinality: 'one',
  resource: 'Patient + Organization + EpisodeOfCare + CarePlan',
  fields: [
    identifierField<RegistrationParts>(
      'registrationId',
      'string',
      REGISTRATION_ID_SYSTEM,
      (r) => r.episode,
      'EpisodeOfCare',
      "The provider's number of this registration",
      { required: true },
    ),
    elementField(
      'provider',
      'string',
      (r: RegistrationParts) => r.provider,
      'name',
      'Organization.name',
      'The youth-care provider',
      { required: true },
    ),
    identifierField<RegistrationParts>(
      'providerAgb',
      'string',
      AGB_SYSTEM,
      (r) => r.provider,
      'Organization',
      "The provider's AGB code",
      { pattern: '^\\d{8}$' },
    ),
    clientBsnField<RegistrationParts>('clientBsn'),
    clientField<RegistrationParts>('family', 'clientFamilyName', 'Family name of the client', true),
    clientField<RegistrationParts>('given', 'clientGivenName', 'Call name of the client'),
    clientField<RegistrationParts>('birthDate', 'clientBirthDate', 'Birth date of the client', true),
    elementField(
      'clientSex',
      'code',
      (r: RegistrationParts) => r.patient,
      'gender',
      'Patient.gender',
      'Sex of the client',
      { required: true, codes: ['male', 'female', 'other', 'unknown'] },
    ),
    {
      name: 'trajectoryType',
      type: 'code',
      required: true,
      codes: ['waakvlam', 'complex-intensive', 'consultation'],
      fhir: `EpisodeOfCare.type (${CS}/trajectory-type)`,
      description: 'Waakvlam (low intensity), complex-intensive, or consultation only',
      put: (r, v: string) =>
        void (r.episode.type = [{ coding: [{ system: `${CS}/trajectory-type`, code: v }] }]),
      take: (r) => r.episode.type?.[0]?.coding?.find((c) => c.system === `${CS}/trajectory-type`)?.code,
    },
    codingExtension(
      'coordinationLevel',
      'coordination-level',
      `${CS}/coordination-level`,
      ['0', '1', '2', '3', '4', '5'],
      'Coordination level 0–5',
      true,
    ),
    codingExtension(
      'framework',
      'coordination-framework',
      `${CS}/coordination-framework`,
      ['voluntary', 'drang', 'dwang'],
      'Voluntary, drang (pressure) or dwang (court order)',
      true,
    ),
    memberField(
      'startDate',
      'date',
      (r: RegistrationParts) => r.episode,
      'period',
      'start',
      'EpisodeOfCare.period.start',
      'Start of the trajectory',
      { required: true },
    ),
    {
      name: 'endDate',
      type: 'date',
      future: true,
      fhir: "EpisodeOfCare.period.end (status 'finished' when set)",
      description: 'End of the trajectory',
      put: (r, v: string) => {
        r.episode.period = { ...r.episode.period, end: v };
        r.episode.status = 'finished';
      },
      take: (r) => r.episode.period?.end,
    },
    codingExtension(
      'closureReason',
      'closure-reason',
      `${CS}/closure-reason`,
      [
        'goals-achieved',
        'client-stopped',
        'referred',
        'no-cooperation',
        'statutory-measure',
        'moved',
        'other',
      ],
      'Why the trajectory was closed',
    ),
    {
      name: 'referredTo',
      type: 'string',
      fhir: `EpisodeOfCare.extension(${KP_EXT}/referred-to).valueReference.display`,
      description: 'The agency the client was referred to at closure',
      put: (r, v: string) =>
        setExtension(r.episode, `${KP_EXT}/referred-to`, { valueReference: { display: v } }),
      take: (r) => getExtension(r.episode, `${KP_EXT}/referred-to`)?.valueReference?.display,
    },
    elementField(
      'planTitle',
      'string',
      (r: RegistrationParts) => r.plan,
      'title',
      'CarePlan.title',
      'Title of the care plan',
      { required: true },
    ),
    elementField(
      'planStatus',
      'code',
      (r: RegistrationParts) => r.plan,
      'status',
      'CarePlan.status',
      'Status of the care plan',
      { required: true, codes: ['draft', 'active', 'on-hold', 'revoked', 'completed'] },
    ),
  ],
};

export const goalEntity: Entity<Goal> = {
  name: 'goal',
  cardinality: 'many',
  resource: 'Goal',
  fields: [
    {
      name: 'lifeDomain',
      type: 'code',
      required: true,
      codes: LIFE_DOMAINS,
      fhir: `Goal.category (${LIFE_DOMAIN_SYSTEM})`,
      description: 'The life domain of the goal',
      put: (r, v: string) => void (r.category = [{ coding: [{ system: LIFE_DOMAIN_SYSTEM, code: v }] }]),
      take: (r) => r.category?.[0]?.coding?.find((c) => c.system === LIFE_DOMAIN_SYSTEM)?.code,
    },
    {
      name: 'description',
      type: 'string',
      required: true,
      fhir: 'Goal.description.text',
      description: 'The goal in words',
      put: (r, v: string) => void (r.description = { text: v }),
      take: (r) => r.description?.text,
    },
    elementField(
      'status',
      'code',
      (r: Goal) => r,
      'lifecycleStatus',
      'Goal.lifecycleStatus',
      'Status of the goal',
      {
        required: true,
        codes: ['proposed', 'planned', 'active', 'completed', 'cancelled'],
      },
    ),
    {
      name: 'dueDate',
      type: 'date',
      future: true,
      fhir: 'Goal.target[0].dueDate',
      description: 'When the goal should be reached',
      put: (r, v: string) => void (r.target = [{ dueDate: v }]),
      take: (r) => r.target?.[0]?.dueDate,
    },
  ],
};

export interface NativeRegistration extends NativeRecord {
  goals?: NativeRecord[];
}

export function registrationToFhir(native: NativeRegistration): Bundle {
  const id = `youthcare/${String(native.registrationId)}`;
  const [patientUrl, providerUrl, episodeUrl, planUrl] = ['patient', 'provider', 'episode', 'plan'].map((p) =>
    urn(id, p),
  ) as [string, string, string, string];
  const parts: RegistrationParts = {
    patient: { resourceType: 'Patient' },
    provider: { resourceType: 'Organization' },
    episode: {
      resourceType: 'EpisodeOfCare',
      meta: { profile: [`${PROFILE}/coordination`] },
      status: 'active',
      patient: { reference: patientUrl },
      managingOrganization: { reference: providerUrl },
    },
    plan: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: patientUrl } },
  };
  const { goals = [], ...top } = native;
  apply(registrationEntity, top, parts);
  const goalEntries = goals.map((g, i) => {
    const goal: Goal = {
      resourceType: 'Goal',
      lifecycleStatus: 'active',
      description: { text: '' },
      subject: { reference: patientUrl },
    };
    apply(goalEntity, g, goal);
    return { fullUrl: urn(id, `goal/${i}`), resource: goal };
  });
  if (goalEntries.length) parts.plan.goal = goalEntries.map((e) => ({ reference: e.fullUrl }));
  return collection([
    { fullUrl: patientUrl, resource: parts.patient },
    { fullUrl: providerUrl, resource: parts.provider },
    { fullUrl: episodeUrl, resource: parts.episode },
    { fullUrl: planUrl, resource: parts.plan },
    ...goalEntries,
  ]);
}

export function registrationFromFhir(bundle: Bundle): {
  native: NativeRegistration;
  issues: OperationOutcomeIssue[];
} {
  const issues: OperationOutcomeIssue[] = [];
  const entries = bundle.entry ?? [];
  const byUrl = new Map(entries.filter((e) => e.fullUrl && e.resource).map((e) => [e.fullUrl!, e.resource!]));
  const one = <T extends Resource>(type: T['resourceType'], where: string): T => {
    const found = entries.map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
    if (found.length !== 1)
      throw new MappingError(`a registration Bundle holds exactly one ${type}, not ${found.length}`, where);
    return found[0]!;
  };
  const episode = one<EpisodeOfCare>('EpisodeOfCare', 'Bundle.entry');
  const plan = one<CarePlan>('CarePlan', 'Bundle.entry');
  const patient = byUrl.get(episode.patient?.reference ?? '');
  const provider = byUrl.get(episode.managingOrganization?.reference ?? '');
  if (patient?.resourceType !== 'Patient')
    throw new MappingError('EpisodeOfCare.patient must be a Patient of the Bundle', 'EpisodeOfCare.patient');
  if (provider?.resourceType !== 'Organization')
    throw new MappingError(
      'EpisodeOfCare.managingOrganization must be an Organization of the Bundle',
      'EpisodeOfCare.managingOrganization',
    );
  const native: NativeRegistration = read(registrationEntity, { patient, provider, episode, plan });
  const goals = (plan.goal ?? []).map((g) => byUrl.get(g.reference ?? ''));
  const known = goals.filter((g): g is Goal => g?.resourceType === 'Goal');
  if (known.length) native.goals = known.map((g) => read(goalEntity, g));
  const used = new Set<Resource | undefined>([episode, plan, patient, provider, ...known]);
  issues.push(...unusedEntries(entries, used, 'registration'));
  return { native, issues };
}
