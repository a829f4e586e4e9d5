// Runs a decision: loads the facts (now, or as they were), decides, and tells what the requester may know of it.
import type { Consent } from '@medplum/fhirtypes';
import { loadCatalogue } from '../consent/catalogue.js';
import { decide } from '../consent/decide.js';
import type { Decision, DecisionRequest } from '../consent/types.js';
import type { Config } from '../config.js';
import type { GatewayContext } from '../context.js';
import type { Queryable } from '../store/database.js';
import { reportConflicts } from '../person-index/conflicts.js';
import type { Subject } from '../person-index/facts.js';
import {
  loadSubjectFacts,
  ownRegistration,
  ownsAny,
  type DecisionFactsSource,
} from '../person-index/decision-facts.js';
import type { Principal } from '../auth/access.js';
import { explainConsents, type ConsentExplanation } from '../consent/explain-consents.js';
import { visibleExplanations } from './consent-explanations.js';
import { decideOptions } from './decide-options.js';

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
  /** The Consents the decision rests on (`decision.consents`), as the facts hold them: no need to read them again. */
  consentsUsed: Consent[];
}

/** The moment of a decision: now (read once per request from the clock), or a past moment that is replayed. */
export interface DecisionMoment {
  at: Date;
  /** Decide with the facts as they were at `at`, from the resource history: a replay only looks back. */
  replay?: boolean;
}

/** What a decision needs: the store, the configuration, and (in a gateway process) the facts kept in memory. */
export interface DecisionServices {
  db: Queryable;
  config: Config;
  facts?: DecisionFactsSource;
}

/** The services of one request's decisions: the facts are read as of one fact version, read when first asked. */
export function decisionServices(ctx: GatewayContext): DecisionServices {
  return { db: ctx.db, config: ctx.config, facts: ctx.facts.view() };
}

/** Loads the facts for a request and decides it: now, or as of a replayed moment with the facts as they were then. */
export async function runDecision(
  { db, config, facts: store }: DecisionServices,
  principal: Principal,
  request: DecisionRequest,
  subject: Subject,
  { at, replay = false }: DecisionMoment,
): Promise<DecisionRun> {
  const known =
    store && !replay
      ? await store.subject(subject)
      : await loadSubjectFacts(db, subject, replay ? at : undefined);
  const { facts } = known;
  const own = ownRegistration(known, principal.org);
  const related = own !== undefined;
  const decision = decide(
    request,
    {
      ...facts,
      disputed: [...facts.conflicts.map((c) => c.fact), ...facts.unsettled],
      // A live decision is for an organisation that registered the person itself; a replay only looks back.
      requesterRelated: replay ? undefined : related,
    },
    loadCatalogue(),
    at,
    decideOptions(config),
  );
  // A dispute found now goes to the privacy officer's queue; a replay only looks back.
  if (facts.conflicts.length && !replay) await reportConflicts(db, facts.conflicts, facts.subjectRef, at);
  const consentRefs = facts.consents.flatMap((c) => (c.id ? [`Consent/${c.id}`] : []));
  const fullExplanation = ownsAny(known, consentRefs, principal.org);
  const consentExplanations = visibleExplanations(
    principal,
    explainConsents(request, facts, at, config.consentEvidencePolicy),
    (ref) => ownsAny(known, [ref], principal.org),
  );
  return {
    request,
    decision,
    subjectRef: facts.subjectRef,
    ownSubjectRef: own && subject.kind === 'person' ? `Patient/${own}` : undefined,
    fullExplanation,
    related,
    consentExplanations,
    consentsUsed: facts.consents.filter((c) => c.id && decision.consents.includes(`Consent/${c.id}`)),
  };
}
