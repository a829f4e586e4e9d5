// Why each consent of the subject did or did not apply to a request: one line per consent, in Dutch and English.
import type { Consent } from '@medplum/fhirtypes';
import { partiesAndActionsApply } from './actions.js';
import { performersOf, personFacts, personLabel, type PersonFacts } from './consenters.js';
import { evidenceOf, evidenceProblem, type Evidence, type EvidencePolicy } from './evidence.js';
import { actorMatches, evaluateConsent } from './provisions.js';
import type { DecisionFacts, DecisionRequest, Reason } from './types.js';
import { inPeriod } from '../time/amsterdam.js';

export type ConsentOutcome = 'not-applicable' | 'not-counted' | 'no-matching-provision' | 'permit' | 'deny';

export interface ConsentExplanation {
  consent: string;
  outcome: ConsentOutcome;
  reason: Reason;
  /** The consent's evidence as recorded: a signed form or not, verified by whom and when. */
  evidence?: Evidence;
}

const codes = (xs: { code?: string }[] | undefined): string[] =>
  (xs ?? []).flatMap((x) => (x.code ? [x.code] : []));

function performers(c: Consent, person: PersonFacts | undefined) {
  const labels = performersOf(c).map((r) => (person ? personLabel(person, r) : { en: r, nl: r }));
  return {
    en: labels.map((l) => l.en).join(', ') || 'nobody',
    nl: labels.map((l) => l.nl).join(', ') || 'niemand',
  };
}

/** The explanation of one consent for one request, at one moment. */
export function explainConsent(
  c: Consent,
  person: PersonFacts | undefined,
  req: DecisionRequest,
  at: Date,
  policy: EvidencePolicy | undefined,
): ConsentExplanation {
  const consent = `Consent/${c.id}`;
  const line = (
    outcome: ConsentOutcome,
    code: string,
    params: Reason['params'] = {},
  ): ConsentExplanation => ({
    consent,
    outcome,
    reason: { code, params: { consent, ...params } },
  });
  if (c.status !== 'active')
    return line('not-applicable', 'consent-not-applicable-status', { status: c.status });
  if (!(c.scope?.coding ?? []).some((s) => s.code === 'patient-privacy'))
    return line('not-applicable', 'consent-not-applicable-scope');
  if (!person || !person.consents.includes(c))
    return line('not-applicable', 'consent-not-applicable-performer', { performer: performers(c, person) });
  const root = c.provision;
  if (!root) return line('no-matching-provision', 'consent-no-matching-provision');
  if (!inPeriod(root.period, at))
    return line('not-applicable', 'consent-not-applicable-period', {
      period: `${root.period?.start ?? '…'} – ${root.period?.end ?? '…'}`,
    });
  if (!partiesAndActionsApply({ actor: root.actor }, root.type ?? 'permit', req, actorMatches(root, req)))
    return line('not-applicable', 'consent-not-applicable-recipient', { recipient: req.recipientOrg });
  const purposes = codes(root.purpose);
  if (purposes.length && !purposes.includes(req.purpose.code ?? ''))
    return line('not-applicable', 'consent-not-applicable-purpose', {
      purposes: purposes.join(', '),
      purpose: req.purpose.code ?? '',
    });
  if (policy === 'required') {
    const problem = evidenceProblem(c, person, at);
    if (problem) return { consent, outcome: 'not-counted', reason: problem };
  }
  const verdict = evaluateConsent(c, req, at);
  if (verdict === 'permit')
    return line('permit', 'consent-applies-permit', { performer: performers(c, person) });
  if (verdict === 'deny') return line('deny', 'consent-applies-deny', { performer: performers(c, person) });
  return line('no-matching-provision', 'consent-no-matching-provision');
}

/**
 * One explanation per consent about the subject (or the family's members), in the order they were recorded. The
 * explanations inform; a consent stored malformed must not turn a decision into an error: then there are none.
 */
export function explainConsents(
  req: DecisionRequest,
  facts: DecisionFacts,
  at: Date,
  policy?: EvidencePolicy,
): ConsentExplanation[] {
  try {
    const patients = facts.members ?? (facts.subject ? [facts.subject] : []);
    const persons = patients.map((p) => personFacts(p, facts.relatedPersons, facts.consents));
    return facts.consents.map((c) => {
      const person = persons.find((p) => c.patient?.reference === p.ref);
      return { ...explainConsent(c, person, req, at, policy), evidence: evidenceOf(c) };
    });
  } catch {
    return [];
  }
}
