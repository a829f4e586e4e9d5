// decide(): every exchange decided as one pure function of (request, facts, catalogue, moment). No I/O.
import type { Patient } from '@medplum/fhirtypes';
import { ageOn } from '../time/amsterdam.js';
import type { Catalogue, LegalBasisEntry } from './catalogue.js';
import { covenantScope, withinCovenant } from './covenant.js';
import { screenEvidence } from './evidence.js';
import { consentBasis, personFacts, type PersonBasis, type PersonFacts } from './consenters.js';
import { decideCategories, deny, minimisePayload, type BasisFn } from './disclose.js';
import { legalBasisProblems } from './legal-basis.js';
import { renderReason } from './explain.js';
import { evaluateConsent } from './provisions.js';
import { withoutUnevaluableConsents } from './unevaluable.js';
import type {
  DecideOptions,
  Decision,
  DecisionFacts,
  DecisionRequest,
  DisputedFact,
  Reason,
} from './types.js';

export { hasParentalAuthority } from './consenters.js';
export { DECISION_REASON_SYSTEM, PARENTAL_AUTHORITY_URL } from './constants.js';

export const DEFAULT_OPTIONS: DecideOptions = {
  ageTransitionPolicy: 'keep-until-withdrawn',
  pseudonymKey: 'ketenpoort-default-pseudonym-key',
};

/** Decides a request. Any failure inside is a deny with reason decision-error: the engine fails closed. */
export function decide(
  req: DecisionRequest,
  facts: DecisionFacts,
  catalogue: Catalogue,
  at: Date,
  options: DecideOptions = DEFAULT_OPTIONS,
): Decision {
  try {
    return decideUnsafe(req, facts, catalogue, at, options);
  } catch (err) {
    const skipped = withoutUnevaluableConsents(req, facts, catalogue, (f) =>
      decideUnsafe(req, f, catalogue, at, options),
    );
    if (skipped) return skipped;
    return deny([
      { code: 'decision-error', params: { detail: err instanceof Error ? err.message : String(err) } },
    ]);
  }
}

function decideUnsafe(
  req: DecisionRequest,
  facts: DecisionFacts,
  catalogue: Catalogue,
  at: Date,
  options: DecideOptions,
): Decision {
  let basisFor: BasisFn;
  let entry: LegalBasisEntry | undefined;
  if (req.legalBasis) {
    entry = catalogue.legalBases.get(req.legalBasis.code ?? '');
    if (!entry) return deny([{ code: 'legal-basis-unknown', params: { basis: req.legalBasis.code ?? '' } }]);
    if (entry.consentRequired) {
      // Not an exception: the client's consent stays the basis, and the reason says so when it is missing.
      basisFor = (person, item) => {
        const b = consentBasis(person, req, at, options, item);
        return b.verdict === 'permit'
          ? b
          : {
              ...b,
              reason: {
                code: 'legal-basis-requires-consent',
                params: { basis: entry!.code, law: entry!.law },
              },
            };
      };
    } else {
      const problems = legalBasisProblems(entry, req);
      if (problems.length) return deny(problems);
      basisFor = legalExceptionBasis(entry, req, at);
    }
  } else {
    basisFor = (person, item) => consentBasis(person, req, at, options, item);
  }

  // The region's covenants narrow whatever basis was found; outside all of them nothing goes.
  const region = covenantScope(options.covenants ?? [], req, at, entry);
  if (region.outside) return deny([region.reason]);
  if (region.categories) basisFor = withinCovenant(basisFor, region.categories, region.covenants);

  // After the checks of the legal basis itself, which do not depend on the person: whether the person is known, and
  // whether the facts are in dispute, comes last.
  const patients: Patient[] = facts.members ?? (facts.subject ? [facts.subject] : []);
  if (patients.length === 0 || patients.some((p) => !p.id)) {
    return deny([{ code: 'subject-unknown', params: { bsn: req.subjectBsn } }]);
  }
  if (facts.requesterRelated === false) return deny([{ code: 'requester-not-related', params: {} }]);
  const blocking = disputedFactsIn(facts.disputed ?? [], req, entry);
  if (blocking.length) return deny([{ code: 'facts-conflict', params: { facts: blocking.join(', ') } }]);
  const evidence = screenEvidence(
    patients.map((p) => personFacts(p, facts.relatedPersons, facts.consents)),
    at,
    options.consentEvidence,
  );
  const persons = evidence.persons;

  const requestLevel = persons.map((p) => ({ person: p, basis: basisFor(p) }));
  const withBasis = requestLevel.filter((x) => x.basis.verdict === 'permit');
  const denials = requestLevel.filter((x) => x.basis.verdict === 'deny');
  if (withBasis.length === 0) {
    return deny([
      ...denials.map((d) =>
        persons.length > 1 ? familyReason(d.person, d.basis.reason, catalogue) : d.basis.reason,
      ),
      ...evidence.reasons,
    ]);
  }
  const legal = entry && !entry.consentRequired ? entry : undefined;
  const result: Decision = {
    decision: 'permit',
    basis: legal ? 'legal-exception' : 'consent',
    consents: [...new Set(withBasis.flatMap((x) => x.basis.consents))],
    legalBasis: legal ? req.legalBasis : undefined,
    reasons: [
      ...dedupe(withBasis.map((x) => x.basis.reason)),
      ...(persons.length > 1 ? denials.map((d) => familyReason(d.person, d.basis.reason, catalogue)) : []),
    ],
    obligations: [],
    disclosed: [],
    redacted: [],
  };
  if (legal?.reviewRequired)
    result.obligations.push({
      code: 'REVIEW',
      detail: `Use of ${legal.code} is reviewed by a privacy officer`,
    });
  if (legal?.notifyClient)
    result.obligations.push({
      code: 'NOTIFY-CLIENT',
      detail: `Inform the client afterwards of this disclosure under ${legal.code}, unless that harms the client or others`,
    });

  if (req.payload) return minimisePayload(req, result, persons, basisFor, catalogue, at, options, legal);
  if (req.categories?.length) return decideCategories(req, result, persons, basisFor, catalogue);
  return result;
}

/**
 * The disputed facts this decision relies on: every one for a consent (who must consent follows from the birth date
 * and parental authority), for a legal exception only the birth date where it has an age limit and the family for a
 * family; an exception that does not depend on them (a Veilig Thuis report) is not blocked by a dispute.
 */
function disputedFactsIn(
  disputed: DisputedFact[],
  req: DecisionRequest,
  entry: LegalBasisEntry | undefined,
): DisputedFact[] {
  const unique = [...new Set(disputed)];
  if (!entry || entry.consentRequired) return unique;
  return unique.filter(
    (f) =>
      (f === 'birthDate' && entry.maxSubjectAge !== undefined) ||
      (f === 'family' && req.subjectKind === 'family') ||
      (f === 'parentalAuthority' && entry.optOut),
  );
}

function dedupe(reasons: Reason[]): Reason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = `${r.code}|${JSON.stringify(r.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function familyReason(person: PersonFacts, reason: Reason, catalogue: Catalogue): Reason {
  const detail = {
    en: renderReason(reason, catalogue, 'en', 'full'),
    nl: renderReason(reason, catalogue, 'nl', 'full'),
  };
  return { code: 'family-member-no-basis', params: { person: person.ref, detail, cause: reason.code } };
}

/** The basis a legal exception gives one person: limits of age and objections, then the categories it covers. */
function legalExceptionBasis(entry: LegalBasisEntry, req: DecisionRequest, at: Date): BasisFn {
  return (person, item) => {
    const age = person.patient.birthDate ? ageOn(person.patient.birthDate, at) : undefined;
    if (entry.maxSubjectAge !== undefined && (age === undefined || age > entry.maxSubjectAge)) {
      return {
        verdict: 'deny',
        consents: [],
        reason: {
          code: 'subject-too-old',
          params: { basis: entry.code, max: entry.maxSubjectAge, age: age ?? 'unknown' },
        },
      };
    }
    if (entry.optOut) {
      const objection = person.consents.find((c) => evaluateConsent(c, req, at) === 'deny');
      if (objection) {
        const by = objection.performer?.[0]?.reference ?? 'unknown';
        return {
          verdict: 'deny',
          consents: [],
          reason: {
            code: 'objection-recorded',
            params: { consent: `Consent/${objection.id}`, performer: by, basis: entry.code },
          },
        };
      }
    }
    const permit: PersonBasis = {
      verdict: 'permit',
      consents: [],
      reason: { code: 'legal-basis-permits', params: { basis: entry.code, law: entry.law } },
    };
    if (!item) return permit;
    const covered = item.categories.every((c) => entry.categories.includes(c));
    return covered ? permit : { verdict: 'deny', consents: [], reason: permit.reason };
  };
}
