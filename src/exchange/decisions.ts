// The I/O shell around decide(): resolves the parties, loads the facts, decides, and renders the decision for HTTP.
import type {
  Coding,
  Consent,
  Endpoint,
  Group,
  Identifier,
  Organization,
  OperationOutcome,
  Parameters,
  ParametersParameter,
  Patient,
  RelatedPerson,
  Task,
} from '@medplum/fhirtypes';
import { loadCatalogue } from '../consent/catalogue.js';
import { AGENCY_ROLE_SYSTEM, DECISION_REASON_SYSTEM, FAMILY_ID_SYSTEM } from '../consent/constants.js';
import { decide } from '../consent/decide.js';
import { renderReason, type Language } from '../consent/explain.js';
import type { Decision, DecisionFacts, DecisionRequest, DisputedFact, Reason } from '../consent/types.js';
import type { Config } from '../config.js';
import { isValidBsn } from '../mappings/bsn.js';
import type { Database, Queryable } from '../store/database.js';
import { isKnownCode } from '../consent/code-allowlist.js';
import { reportConflicts, unsettledDisputes } from '../person-index/conflicts.js';

const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
import {
  alignConsent,
  familyConflict,
  gezagHolders,
  mergeParents,
  mergePerson,
  type FactConflict,
  type MergedPerson,
} from '../person-index/registrations.js';
import {
  BSN_SYSTEM,
  createResource,
  hasAccessToAny,
  ownOf,
  readAsOf,
  readResource,
  resourcesAsOf,
  searchResources,
} from '../store/resources.js';
import type { Principal } from '../auth/access.js';
import { explainConsents, type ConsentExplanation } from '../consent/explain-consents.js';
import { explanationText, visibleExplanations } from './consent-explanations.js';
import { decideOptions } from './decide-options.js';
import { audit, type AuditRecord } from '../audit/record.js';
import { badRequest, FhirError, unprocessable } from '../fhir/outcomes.js';
import type { OperationInput } from '../http/parameters.js';
import { TASK_CODE_SYSTEM } from './tasks.js';

export { AGENCY_ROLE_SYSTEM };

export interface Party {
  reference: string;
  organization: Organization;
  role?: string;
}

function rule(diagnostics: string, expression: string) {
  return unprocessable([{ severity: 'error', code: 'business-rule', diagnostics, expression: [expression] }]);
}

/** Finds an Organization by reference or identifier; 422 when the directory does not know it. */
export async function resolveOrganization(
  db: Queryable,
  input: OperationInput,
  name: string,
): Promise<Party> {
  const ref = input.reference(name, true);
  let organization: Organization | undefined;
  if (ref.reference) {
    const [type, id] = ref.reference.split('/');
    if (type !== 'Organization' || !id)
      throw badRequest(`Parameter "${name}" must reference an Organization`);
    organization = (await readResource<Organization>(db, 'Organization', id))?.resource;
  } else if (ref.identifier?.value) {
    const found = await searchResources<Organization>(db, {
      type: 'Organization',
      criteria: [
        { param: 'identifier', values: [{ system: ref.identifier.system, value: ref.identifier.value }] },
      ],
      count: 2,
      offset: 0,
      sort: 'asc',
    });
    organization = found.total === 1 ? found.resources[0] : undefined;
  } else {
    throw badRequest(`Parameter "${name}" needs a reference or an identifier`);
  }
  if (!organization)
    throw rule(`The ${name} organisation is not in the gateway's directory`, `Parameters.parameter[${name}]`);
  return { reference: `Organization/${organization.id}`, organization, role: roleOf(organization) };
}

export function roleOf(organization: Organization): string | undefined {
  return organization.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === AGENCY_ROLE_SYSTEM)?.code;
}

/** The active FHIR Endpoint of an organisation; 422 when it has none. */
export async function endpointOf(db: Queryable, party: Party, name = 'recipient'): Promise<string> {
  const found = await searchResources<Endpoint>(db, {
    type: 'Endpoint',
    criteria: [
      { param: 'organization', values: [{ value: party.reference }] },
      { param: 'status', values: [{ value: 'active' }] },
    ],
    count: 1,
    offset: 0,
    sort: 'asc',
    total: false,
  });
  const address = found.resources[0]?.address;
  if (!address) throw rule(`${party.reference} has no active FHIR Endpoint`, `Parameters.parameter[${name}]`);
  return address;
}

export interface Subject {
  kind: 'person' | 'family';
  /** The BSN, or the family identifier's value. */
  value: string;
  identifier: Identifier;
}

/** The subject: a BSN, or a family identifier (a registered Group); 400/422 when it is neither. */
export function subjectOf(input: OperationInput): Subject {
  const id = input.identifier('subject', true);
  if (id.system === FAMILY_ID_SYSTEM && id.value) return { kind: 'family', value: id.value, identifier: id };
  if (id.system !== BSN_SYSTEM || !id.value) {
    throw badRequest(
      `Parameter "subject" must be an identifier with system ${BSN_SYSTEM} (a person) or ${FAMILY_ID_SYSTEM} (a family)`,
    );
  }
  if (!isValidBsn(id.value)) throw rule(`"${id.value}" is not a valid BSN`, 'Parameters.parameter[subject]');
  return { kind: 'person', value: id.value, identifier: id };
}

export type LoadedFacts = DecisionFacts & {
  subjectRef?: string;
  /** Facts that the organisations' registrations of the subject disagree on. */
  conflicts: FactConflict[];
  /** Facts of disputes raised earlier that no privacy officer has settled yet. */
  unsettled: DisputedFact[];
  /** Per registration of the subject (`Patient/<id>`), the BSNs of the parents it names with parental authority. */
  gezagByRegistration: Map<string, Set<string>>;
  /** Every registration of the subject (or the family's members): `Patient/<id>`. */
  registrations: string[];
};

/** Every organisation's registration of a BSN (the earliest first), as it is now or as it was at a moment. */
async function registrationsOf(db: Queryable, bsn: string, asOf?: Date): Promise<Patient[]> {
  const found = await searchResources<Patient>(db, {
    type: 'Patient',
    criteria: [{ param: 'identifier', values: [{ system: BSN_SYSTEM, value: bsn }] }],
    count: 100,
    offset: 0,
    sort: 'asc',
    total: false,
  });
  if (!asOf) return found.resources;
  const versions = await Promise.all(
    found.resources.map((p) => readAsOf<Patient>(db, 'Patient', p.id!, asOf)),
  );
  return versions.filter((p): p is Patient => p !== undefined);
}

async function byPatient<T extends RelatedPerson | Consent>(
  db: Queryable,
  type: T['resourceType'],
  refs: string[],
  asOf?: Date,
): Promise<T[]> {
  if (asOf) return resourcesAsOf<T>(db, type, refs, asOf);
  const found = await searchResources<T>(db, {
    type,
    criteria: [{ param: 'patient', values: refs.map((value) => ({ value })) }],
    count: 1000,
    offset: 0,
    sort: 'asc',
    total: false,
  });
  return found.resources;
}

/**
 * Loads the facts of a decision without visibility limits, from every organisation's registration: the person or
 * family, parents, and consents — as they are now, or (asOf) as they were at an earlier moment, from the resource
 * history. Registrations of one BSN are merged (src/person-index/registrations.ts); what they disagree on is returned
 * as conflicts.
 */
export async function loadFacts(db: Queryable, subject: Subject, asOf?: Date): Promise<LoadedFacts> {
  const conflicts: FactConflict[] = [];
  let group: Group | undefined;
  let memberBsns = [subject.value];
  if (subject.kind === 'family') {
    const found = await searchResources<Group>(db, {
      type: 'Group',
      criteria: [{ param: 'identifier', values: [{ system: FAMILY_ID_SYSTEM, value: subject.value }] }],
      count: 100,
      offset: 0,
      sort: 'asc',
      total: false,
    });
    const groups = asOf
      ? (await Promise.all(found.resources.map((g) => readAsOf<Group>(db, 'Group', g.id!, asOf)))).filter(
          (g): g is Group => g !== undefined,
        )
      : found.resources;
    const bsnOfRef = new Map<string, string>();
    for (const g of groups) {
      for (const m of g.member ?? []) {
        const [type, id] = (m.entity.reference ?? '').split('/');
        if (type !== 'Patient' || !id || m.inactive || bsnOfRef.has(`Patient/${id}`)) continue;
        const p = asOf
          ? await readAsOf<Patient>(db, 'Patient', id, asOf)
          : (await readResource<Patient>(db, 'Patient', id))?.resource;
        const bsn = p?.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
        if (bsn) bsnOfRef.set(`Patient/${id}`, bsn);
      }
    }
    const membersOf = (g: Group) =>
      (g.member ?? []).flatMap((m) =>
        (m.inactive ? [] : [bsnOfRef.get(m.entity.reference ?? '') ?? '']).filter(Boolean),
      );
    conflicts.push(...familyConflict(groups, membersOf, subject.value));
    group = groups[0];
    memberBsns = group ? [...new Set(membersOf(group))] : [];
  }
  const merged: MergedPerson[] = [];
  for (const bsn of memberBsns) {
    const result = mergePerson(await registrationsOf(db, bsn, asOf), bsn);
    conflicts.push(...result.conflicts);
    if (result.merged) merged.push(result.merged);
  }
  const empty = {
    subject: undefined,
    members: [],
    relatedPersons: [],
    consents: [],
    conflicts,
    unsettled: [],
    gezagByRegistration: new Map<string, Set<string>>(),
    registrations: [],
  };
  if (merged.length === 0) return { ...empty, group };
  const aliases = new Map(merged.flatMap((m) => [...m.aliases]));
  const refs = [...aliases.keys()];
  const [related, consents] = await Promise.all([
    byPatient<RelatedPerson>(db, 'RelatedPerson', refs, asOf),
    byPatient<Consent>(db, 'Consent', refs, asOf),
  ]);
  const relatedPersons: RelatedPerson[] = [];
  for (const person of merged) {
    const parents = mergeParents(related, person);
    relatedPersons.push(...parents.parents);
    conflicts.push(...parents.conflicts);
    for (const [from, to] of parents.aliases) aliases.set(from, to);
  }
  const members = merged.map((m) => m.patient);
  const parentBsns = relatedPersons.flatMap(
    (r) => r.identifier?.flatMap((i) => (i.system === BSN_SYSTEM && i.value ? [i.value] : [])) ?? [],
  );
  const unsettled = asOf
    ? []
    : await unsettledDisputes(db, [
        ...memberBsns,
        ...parentBsns,
        ...(subject.kind === 'family' ? [subject.value] : []),
      ]);
  return {
    subject: subject.kind === 'person' ? members[0] : undefined,
    group: group && {
      ...group,
      member: group.member?.map((m) =>
        aliases.has(m.entity.reference ?? '')
          ? { ...m, entity: { ...m.entity, reference: aliases.get(m.entity.reference!) } }
          : m,
      ),
    },
    members,
    relatedPersons,
    consents: consents.map((c) => alignConsent(c, aliases)),
    conflicts,
    unsettled,
    gezagByRegistration: gezagHolders(related),
    registrations: refs,
    subjectRef:
      subject.kind === 'person' ? `Patient/${members[0]!.id}` : group ? `Group/${group.id}` : undefined,
  };
}

export interface DecisionRun {
  request: DecisionRequest;
  decision: Decision;
  subjectRef?: string;
  /** Whether the requester may hear the full explanation: it registered consents about this person. */
  fullExplanation: boolean;
  /** Whether the requester has a registration of its own of the person (or a family member): a relationship. */
  related: boolean;
  /** The requester's own registration of the person (`Patient/<id>`), where it has one: what its Tasks refer to. */
  ownSubjectRef?: string;
  /** Why each consent of the person did or did not apply, limited to what the requester may see. */
  consentExplanations?: ConsentExplanation[];
}

/** Loads the facts for a request and decides it: now, or as of replayAt with the facts as they were then. */
export async function runDecision(
  db: Queryable,
  config: Config,
  principal: Principal,
  request: DecisionRequest,
  subject: Subject,
  replayAt?: Date,
): Promise<DecisionRun> {
  const at = replayAt ?? config.clock?.() ?? new Date();
  const facts = await loadFacts(db, subject, replayAt);
  const ids = (refs: string[]) => refs.map((r) => r.slice(r.indexOf('/') + 1));
  const own = await ownOf(db, 'Patient', ids(facts.registrations), principal.org);
  const related = own !== undefined;
  const decision = decide(
    request,
    {
      ...facts,
      disputed: [...facts.conflicts.map((c) => c.fact), ...facts.unsettled],
      // A live decision is for an organisation that registered the person itself; a replay only looks back.
      requesterRelated: replayAt ? undefined : related,
    },
    loadCatalogue(),
    at,
    decideOptions(config),
  );
  // A dispute found now goes to the privacy officer's queue; a replay only looks back.
  if (facts.conflicts.length && !replayAt) await reportConflicts(db, facts.conflicts, facts.subjectRef, at);
  const consentIds = facts.consents.flatMap((c) => (c.id ? [c.id] : []));
  const fullExplanation = await hasAccessToAny(db, 'Consent', consentIds, principal.org);
  const consentExplanations = await visibleExplanations(
    db,
    principal,
    explainedOrNone(() => explainConsents(request, facts, at, config.consentEvidencePolicy)),
  );
  return {
    request,
    decision,
    subjectRef: facts.subjectRef,
    ownSubjectRef: own && subject.kind === 'person' ? `Patient/${own}` : undefined,
    fullExplanation,
    related,
    consentExplanations,
  };
}

/** Per-consent explanations inform; a consent stored malformed must not turn a decision into an error. */
function explainedOrNone(explain: () => ConsentExplanation[]): ConsentExplanation[] {
  try {
    return explain();
  } catch {
    return [];
  }
}

/**
 * The reasons a requester is told. An organisation without a registration of its own of the person hears one and
 * the same answer whether the person is unknown, has no consent, or anything else about the person stands in the way,
 * so that a decision cannot be used to find out who is in the index; the audit record keeps the real reasons.
 */
export function shownReasons(run: DecisionRun): Reason[] {
  if (run.decision.decision === 'permit' || run.related) return run.decision.reasons;
  const personal = run.decision.reasons.filter((r) => PERSONAL_REASONS.has(r.code));
  if (personal.length === 0) return run.decision.reasons;
  return [
    ...run.decision.reasons.filter((r) => !PERSONAL_REASONS.has(r.code)),
    { code: 'no-basis', params: {} },
  ];
}

/** Reasons that depend on what the index holds about the person (as opposed to the request or the legal basis). */
const PERSONAL_REASONS = new Set([
  'subject-unknown',
  'requester-not-related',
  'birthdate-missing',
  'no-gezag-holder',
  'consent-missing',
  'consent-refused',
  'consent-renewal-required',
  'subject-too-old',
  'objection-recorded',
  'facts-conflict',
  'family-member-no-basis',
  'nothing-to-disclose',
  'decision-error',
]);

export function reasonText(reason: Reason, lang: Language, full: boolean): string {
  return renderReason(reason, loadCatalogue(), lang, full ? 'full' : 'public');
}

/** The full explanation for the audit record (always English, complete). */
export function auditExplanation(decision: Decision): string {
  return decision.reasons.map((r) => reasonText(r, 'en', true)).join(' ');
}

/** The named facts of a decision kept in its audit record: reason codes, data categories, obligations, request id. */
function decisionDetails(
  run: DecisionRun,
  requestId?: string,
  via?: string,
): Record<string, string[] | string> {
  const d = run.decision;
  return {
    reason: d.reasons.map((r) => r.code),
    disclosed: d.disclosed,
    redacted: d.redacted,
    obligation: d.obligations.map((o) => `${o.code}${o.removed ? ` ${o.removed}` : ''}: ${o.detail}`),
    ...(requestId ? { requestId } : {}),
    ...(via ? { via } : {}),
  };
}

export interface DecisionAuditOptions {
  subtype: 'exchange' | 'request-records' | 'consent-decision';
  subject: Pick<Subject, 'kind' | 'value'>;
  recipientOrg?: string;
  practitioner?: Identifier;
  requestId?: string;
  via?: string;
}

/** Writes the audit record of a decision in a transaction of its own (a decision that moves no data); its id. */
export async function auditDecision(
  db: Database,
  principal: Principal,
  run: DecisionRun,
  opts: DecisionAuditOptions,
): Promise<string> {
  return db.transaction((tx) => audit(tx, principal, decisionAudit(run, opts)));
}

/**
 * The audit record of a decision, as $exchange, $request-records, $consent-decision and CDS Hooks write it: the
 * outcome and full explanation, whose data (BSN and the Patient or Group), for which recipient, purpose and basis,
 * the consents it rests on, and its details.
 */
export function decisionAudit(run: DecisionRun, opts: DecisionAuditOptions): AuditRecord {
  const { decision, request } = run;
  return {
    subtype: opts.subtype,
    outcome: decision.decision === 'permit' ? 'success' : 'denied',
    description: auditExplanation(decision),
    recipientOrg: opts.recipientOrg,
    patient:
      opts.subject.kind === 'person'
        ? { bsn: opts.subject.value, reference: run.subjectRef }
        : { reference: run.subjectRef },
    purpose: request.purpose,
    practitioner: opts.practitioner,
    consents: decision.consents,
    legalBasis: request.legalBasis,
    justification: request.justification,
    details: decisionDetails(run, opts.requestId, opts.via),
  };
}

/** The 403 answer to a denied request: reason codes always, the full sentences only where the requester may know them. */
export function denial(run: DecisionRun, lang: Language): FhirError {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: shownReasons(run).map((r) => ({
      severity: 'error',
      code: 'forbidden',
      details: {
        coding: [{ system: DECISION_REASON_SYSTEM, code: r.code }],
        text: reasonText(r, lang, false),
      },
      diagnostics: reasonText(r, lang, run.fullExplanation),
    })),
  };
  // Why each consent the requester may know of did not carry the exchange (information, not an error).
  for (const e of run.consentExplanations ?? [])
    outcome.issue.push({
      severity: 'information',
      code: 'informational',
      details: { coding: [{ system: DECISION_REASON_SYSTEM, code: e.reason.code }], text: e.outcome },
      diagnostics: explanationText(e)[lang],
      expression: [e.consent],
    });
  return new FhirError(403, outcome);
}

/** The decision as Parameters parts: decision, basis, consent, legalBasis, reason, obligation. */
export function decisionParameters(decision: Decision, lang: Language, full: boolean): ParametersParameter[] {
  const params: ParametersParameter[] = [{ name: 'decision', valueCode: decision.decision }];
  if (decision.basis) params.push({ name: 'basis', valueCode: decision.basis });
  for (const c of decision.consents) params.push({ name: 'consent', valueReference: { reference: c } });
  if (decision.legalBasis) params.push({ name: 'legalBasis', valueCoding: decision.legalBasis });
  for (const r of decision.reasons) {
    params.push({
      name: 'reason',
      part: [
        { name: 'code', valueCoding: { system: DECISION_REASON_SYSTEM, code: r.code } as Coding },
        { name: 'text', valueString: reasonText(r, lang, full) },
      ],
    });
  }
  for (const o of decision.obligations) {
    const part: ParametersParameter[] = [
      { name: 'code', valueCode: o.code },
      { name: 'detail', valueString: o.detail },
    ];
    if (o.removed) part.push({ name: 'removed', valueReference: { reference: o.removed } });
    params.push({ name: 'obligation', part });
  }
  return params;
}

export function parameters(parameter: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter };
}

/** The request as decide() takes it, from the operation's common parameters. */
export async function readDecisionRequest(
  db: Queryable,
  principal: Principal,
  input: OperationInput,
  recipientName = 'recipient',
) {
  const subject = subjectOf(input);
  const purpose = input.coding('purpose', true);
  // A purpose without a system is read as an ActReason code, as the contract names them.
  if ((purpose.system ?? ACT_REASON) !== ACT_REASON || !isKnownCode(ACT_REASON, purpose.code))
    throw rule(
      `The purpose must be a code of ${ACT_REASON} (for example CAREMGT, TREAT, HRESCH), not "${String(purpose.code ?? '').slice(0, 40)}"`,
      'Parameters.parameter[purpose]',
    );
  const recipient = await resolveOrganization(db, input, recipientName);
  const legalBasis = input.coding('legalBasis');
  const justification = input.string('justification');
  const request: DecisionRequest = {
    requesterOrg: principal.org,
    requesterRole: principal.role,
    recipientOrg: recipient.reference,
    recipientRole: recipient.role,
    recipientIdentifiers: recipient.organization.identifier,
    subjectBsn: subject.value,
    subjectKind: subject.kind,
    purpose,
    categories: input
      .codings('category')
      .map((c) => c.code!)
      .filter(Boolean),
    legalBasis,
    justification,
    criteria: input.criteria(),
  };
  return { subject, recipient, request, practitioner: input.identifier('practitioner') };
}

/** A follow-up Task about a decision (review, client notification), created in the exchange's transaction. */
async function createFollowUpTask(
  tx: Queryable,
  principal: Principal,
  run: DecisionRun,
  auditId: string,
  task: { code: string; display: string; dueDays: number; owner?: string; input: NonNullable<Task['input']> },
): Promise<Task> {
  return createResource<Task>(
    tx,
    {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      priority: 'routine',
      code: { coding: [{ system: TASK_CODE_SYSTEM, code: task.code, display: task.display }] },
      for: { reference: run.ownSubjectRef ?? run.subjectRef },
      requester: { reference: principal.org },
      owner: task.owner ? { reference: task.owner } : undefined,
      authoredOn: new Date().toISOString(),
      restriction: { period: { end: new Date(Date.now() + task.dueDays * 24 * 3600 * 1000).toISOString() } },
      focus: { reference: `AuditEvent/${auditId}` },
      input: task.input,
    },
    principal.org,
  );
}

/** A privacy-officer review Task for a legal-exception use, due in 14 days. */
export function createReviewTask(
  tx: Queryable,
  principal: Principal,
  run: DecisionRun,
  auditId: string,
  recipientOrg: string,
): Promise<Task> {
  return createFollowUpTask(tx, principal, run, auditId, {
    code: 'legal-exception-review',
    display: 'Review of a legal-exception use',
    dueDays: 14,
    input: [
      { type: { text: 'legalBasis' }, valueCoding: run.request.legalBasis! },
      { type: { text: 'justification' }, valueString: run.request.justification ?? '' },
      { type: { text: 'recipient' }, valueReference: { reference: recipientOrg } },
      ...Object.entries(run.request.criteria ?? {}).map(([code, v]) => ({
        type: { text: `criterion:${code}` },
        valueString: String(v),
      })),
    ],
  });
}

/** A Task for the disclosing organisation to inform the client afterwards (NOTIFY-CLIENT), due in 30 days. */
export function createNotifyTask(
  tx: Queryable,
  principal: Principal,
  run: DecisionRun,
  auditId: string,
): Promise<Task> {
  return createFollowUpTask(tx, principal, run, auditId, {
    code: 'notify-client',
    display: 'Inform the client of a disclosure without consent',
    dueDays: 30,
    owner: principal.org,
    input: [{ type: { text: 'legalBasis' }, valueCoding: run.request.legalBasis! }],
  });
}
