// The consult: one question (LEAP's patient-consent-consult or the XACML form) decided by the gateway's own engine
// — the same facts, the same decide() and the same minimisation as $exchange — with LEAP's decision, obligations and
// redacted content derived from it.
import type { Bundle, Coding, Consent, Identifier, Organization } from '@medplum/fhirtypes';
import { provisionDataCodes, sameCoding } from '../consent/consent-scope.js';
import { BSN_SYSTEM, FAMILY_ID_SYSTEM } from '../consent/constants.js';
import type { Language } from '../consent/explain.js';
import { dataLevelDenials } from '../consent/provisions.js';
import type { Decision, DecisionRequest } from '../consent/types.js';
import { isValidBsn } from '../mappings/bsn.js';
import { detailWithExplanations } from '../exchange/consent-explanations.js';
import type { Principal } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import type { Subject } from '../person-index/facts.js';
import { auditDecision } from '../exchange/decision-audit.js';
import {
  decisionServices,
  runDecision,
  type DecisionRun,
  type DecisionServices,
} from '../exchange/decisions.js';
import { lookupOrganization, roleOf } from '../exchange/parties.js';
import { reasonText, shownReasons } from '../exchange/reasons.js';
import { badRequest } from '../fhir/outcomes.js';
import { combinePurposes } from './purposes.js';
import type { ConsultQuestion } from './schema.js';

export const PURPOSE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const REDACT = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'REDACT' };
const OBLIGATION_POLICY = 'http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy';
/** Reasons that mean "no consent applies" (LEAP's NO_CONSENT) rather than "a consent refuses" (CONSENT_DENY). */
const NO_CONSENT_REASONS = new Set(['consent-missing', 'subject-unknown', 'no-basis']);

export type LeapDecision = 'CONSENT_PERMIT' | 'CONSENT_DENY' | 'NO_CONSENT';

export interface LeapObligation {
  id: Coding;
  parameters?: { codes?: Coding[]; exceptAnyOfCodes?: Coding[] };
}

export interface ConsultAnswer {
  decision: LeapDecision;
  detail: string;
  obligations: LeapObligation[];
  /** The content as it may go out (minimised as by $exchange), on a permit with content. */
  content?: Bundle;
  /** Absolute URL of the Consent the decision rests on, where the requester may know it. */
  basedOn?: string;
}

/** The subject a question names: a BSN (system BSN, or no system and a valid BSN) or a family identifier. */
function subjectOf(ids: Identifier[]): Subject | undefined {
  for (const id of ids) {
    if (id.system === BSN_SYSTEM) {
      if (!isValidBsn(id.value ?? ''))
        throw badRequest(`"${id.value}" is geen geldig BSN / is not a valid BSN`, 'context.patientId');
      return { kind: 'person', value: id.value!, identifier: { system: BSN_SYSTEM, value: id.value } };
    }
    if (id.system === FAMILY_ID_SYSTEM && id.value)
      return { kind: 'family', value: id.value, identifier: { system: FAMILY_ID_SYSTEM, value: id.value } };
  }
  const bare = ids.find((i) => !i.system && isValidBsn(i.value ?? ''));
  return bare
    ? { kind: 'person', value: bare.value!, identifier: { system: BSN_SYSTEM, value: bare.value } }
    : undefined;
}

/** The first actor the directory knows as an Organization (one match only); practitioners stay identifiers. */
async function recipientOf(
  services: DecisionServices,
  actors: Identifier[],
): Promise<Organization | undefined> {
  for (const id of actors) {
    if (!id.value) continue;
    const found = await lookupOrganization(services, { identifier: { system: id.system, value: id.value } });
    if (found) return found;
  }
  return undefined;
}

/** LEAP's REDACT obligation: the labels, classes and codes of the data-level exceptions that apply. */
function redactions(consents: Consent[], requests: DecisionRequest[], classes: Coding[], at: Date): Coding[] {
  const codes: Coding[] = [];
  for (const consent of consents)
    for (const req of requests)
      for (const p of dataLevelDenials(consent, req, at)) {
        // A question about named classes skips exceptions for other classes (LEAP matches provision.class so).
        if (classes.length && p.class?.length && !p.class.some((c) => classes.some((q) => sameCoding(c, q))))
          continue;
        for (const c of provisionDataCodes(p))
          if (!codes.some((x) => x.system === c.system && x.code === c.code)) codes.push(c);
      }
  return codes;
}

/** The Consents a permit rests on, as the facts of its runs hold them (each once). */
function consentsOf(runs: DecisionRun[], refs: string[]): Consent[] {
  const byRef = new Map(runs.flatMap((r) => r.consentsUsed).map((c) => [`Consent/${c.id}`, c]));
  return refs.flatMap((ref) => {
    const consent = byRef.get(ref);
    return consent ? [consent] : [];
  });
}

/** The content as LEAP returns it: `total` (where given) counts what is left; a question without purpose adds no label. */
function asContent(bundle: Bundle | undefined): Bundle | undefined {
  if (!bundle) return undefined;
  const security = bundle.meta?.security?.filter((l) => l.code !== undefined);
  const labelled = bundle.meta ? { ...bundle, meta: { ...bundle.meta, security } } : bundle;
  return bundle.total === undefined ? labelled : { ...labelled, total: bundle.entry?.length ?? 0 };
}

/** Decides a consult question for the principal, audits it, and answers in LEAP's terms. */
export async function consult(
  ctx: GatewayContext,
  principal: Principal,
  q: ConsultQuestion,
  lang: Language,
  requestId: string,
): Promise<ConsultAnswer> {
  const subject = subjectOf(q.patientId);
  if (!subject) {
    const detail =
      lang === 'nl'
        ? 'Geen persoon met een BSN of gezinsnummer in patientId; er geldt geen toestemming.'
        : 'No person with a BSN or family number in patientId; no consent applies.';
    return { decision: 'NO_CONSENT', detail, obligations: [] };
  }
  const services = decisionServices(ctx);
  const recipient = await recipientOf(services, q.actor);
  const at = ctx.clock();
  const base: Omit<DecisionRequest, 'purpose'> = {
    requesterOrg: principal.org,
    requesterRole: principal.role,
    recipientOrg: recipient ? `Organization/${recipient.id}` : '',
    recipientRole: recipient ? roleOf(recipient) : undefined,
    recipientIdentifiers: [...(recipient?.identifier ?? []), ...q.actor],
    subjectBsn: subject.value,
    subjectKind: subject.kind,
    consentCategories: q.category,
    payload: q.content,
  };
  const purposes = q.purposes.length ? [...new Set(q.purposes)] : [undefined];
  const requests: DecisionRequest[] = purposes.map((code) => ({
    ...base,
    purpose: code === undefined ? {} : { system: PURPOSE_SYSTEM, code },
  }));
  // Each purpose decided as $consent-decision and $exchange decide it (same facts, engine and minimisation).
  const runs: DecisionRun[] = [];
  for (const r of requests) runs.push(await runDecision(services, principal, r, subject, { at }));
  let decision: Decision = combinePurposes(runs.map((r) => r.decision));
  const codes =
    decision.decision === 'permit'
      ? redactions(consentsOf(runs, decision.consents), requests, q.classes, at)
      : [];
  // A class asked for that an exception redacts whole is refused outright (LEAP: CONSENT_DENY, no obligations).
  const refusedClass = q.classes.find((c) => codes.some((x) => sameCoding(c, x)));
  if (refusedClass)
    decision = {
      ...decision,
      decision: 'deny',
      delivered: undefined,
      reasons: [
        {
          code: 'data-removed',
          params: {
            resource: refusedClass.code ?? '',
            categories: `${refusedClass.system ?? ''}|${refusedClass.code ?? ''}`,
            person: runs[0]!.subjectRef ?? subject.value,
          },
        },
      ],
    };
  const run: DecisionRun = { ...(runs.find((r) => r.decision.decision === 'deny') ?? runs[0]!), decision };
  await auditDecision(ctx, principal, run, {
    subtype: 'consent-decision',
    subject,
    recipientOrg: base.recipientOrg || undefined,
    requestId,
    at,
    // The record names the first purpose; with several, its details name every one.
    via: `${q.shape === 'leap' ? 'cds-hooks' : 'cds-hooks (older shape)'}${purposes.length > 1 ? `; purposes ${purposes.join(', ')}` : ''}`,
  });
  const shown = shownReasons(run);
  const full = decision.decision === 'permit' || run.fullExplanation;
  const detail = detailWithExplanations(
    shown.map((r) => reasonText(r, lang, full)).join(' '),
    run.consentExplanations,
  );
  const consentBase = `${ctx.config.baseUrl}/fhir/`;
  if (decision.decision === 'permit') {
    const other = [...new Set(decision.obligations.map((o) => o.code))].filter(
      (c) => c === 'MASK' || c === 'PSEUD',
    );
    return {
      decision: 'CONSENT_PERMIT',
      detail,
      obligations: [
        ...(codes.length ? [{ id: REDACT, parameters: { codes } }] : []),
        ...other.map((code) => ({ id: { system: OBLIGATION_POLICY, code } })),
      ],
      content: asContent(decision.delivered),
      basedOn: run.related && decision.consents[0] ? consentBase + decision.consents[0] : undefined,
    };
  }
  if (shown.every((r) => NO_CONSENT_REASONS.has(r.code)))
    return { decision: 'NO_CONSENT', detail, obligations: [] };
  const refusing = decision.reasons.find((r) => r.code === 'consent-refused')?.params.consent;
  return {
    decision: 'CONSENT_DENY',
    detail,
    obligations: [],
    basedOn: run.related && typeof refusing === 'string' ? consentBase + refusing : undefined,
  };
}
