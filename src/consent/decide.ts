// decide(): every exchange decided as one pure function of (request, facts, catalogue, moment). No I/O.
import type { BundleEntry, Coding, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { ageOn } from '../time/amsterdam.js';
import type { Catalogue, LegalBasisEntry } from './catalogue.js';
import { classify, decisionData, UNKNOWN_CONTENT } from './classify.js';
import { clinicalCodes } from './consent-scope.js';
import { covenantScope, withinCovenant } from './covenant.js';
import { screenEvidence } from './evidence.js';
import { consentBasis, personFacts, type PersonBasis, type PersonFacts } from './consenters.js';
import { BSN_SYSTEM, PSEUDONYM_SYSTEM } from './constants.js';
import { legalBasisProblems } from './legal-basis.js';
import {
  labelledBundle,
  mask,
  OBLIGATION_SYSTEM,
  pseudonymiseBundle,
  receivesPseudonymsOnly,
  withLabels,
} from './minimise.js';
import { renderReason } from './explain.js';
import { evaluateConsent, type DataItem } from './provisions.js';
import { withoutUnevaluableConsents } from './unevaluable.js';
import type {
  DecideOptions,
  Decision,
  DecisionFacts,
  DecisionRequest,
  DisputedFact,
  Obligation,
  Reason,
} from './types.js';

export { hasParentalAuthority } from './consenters.js';
export { DECISION_REASON_SYSTEM, PARENTAL_AUTHORITY_URL } from './constants.js';

export const DEFAULT_OPTIONS: DecideOptions = {
  ageTransitionPolicy: 'keep-until-withdrawn',
  pseudonymKey: 'ketenpoort-default-pseudonym-key',
};

const deny = (reasons: Reason[]): Decision => ({
  decision: 'deny',
  consents: [],
  reasons,
  obligations: [],
  disclosed: [],
  redacted: [],
});

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

/** The basis for one person and one piece of data (or the request as a whole when item is undefined). */
type BasisFn = (person: PersonFacts, item?: DataItem) => PersonBasis;

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

interface Attributed {
  entry: BundleEntry;
  resource: Resource;
  item: DataItem;
  /** The person it is about: a member's reference, 'family' for the whole family, or undefined for a stranger. */
  owner: string | undefined;
}

function bsnOf(resource: { identifier?: { system?: string; value?: string }[] }): string | undefined {
  return resource.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
}

/** Works out whose data each entry is, following subject/patient/for references inside the Bundle and to the index. */
function attribute(
  req: DecisionRequest,
  persons: PersonFacts[],
  entries: BundleEntry[],
  catalogue: Catalogue,
): Attributed[] {
  const byBsn = new Map(persons.filter((p) => p.bsn).map((p) => [p.bsn!, p.ref]));
  const byRef = new Set(persons.map((p) => p.ref));
  const family = req.subjectKind === 'family';
  // References resolve inside the Bundle first (by fullUrl, or by type/id of an entry), then to the person index.
  const byFullUrl = new Map<string, string | undefined>();
  const byLocalRef = new Map<string, string | undefined>();
  const patientOwner = (p: Resource) =>
    byBsn.get(bsnOf(p as Patient) ?? '') ??
    (p.id && byRef.has(`Patient/${p.id}`) ? `Patient/${p.id}` : undefined);
  for (const e of entries) {
    const r = e.resource;
    if (!r || (r.resourceType !== 'Patient' && r.resourceType !== 'Group')) continue;
    const owner = r.resourceType === 'Patient' ? patientOwner(r) : 'family';
    if (e.fullUrl) byFullUrl.set(e.fullUrl, owner);
    if (r.id) byLocalRef.set(`${r.resourceType}/${r.id}`, owner);
  }
  const ownerOfRef = (ref: Reference): string | undefined => {
    const target = ref.reference;
    if (target && byFullUrl.has(target)) return byFullUrl.get(target);
    if (target?.startsWith('Patient/')) return byRef.has(target) ? target : byLocalRef.get(target);
    if (target?.startsWith('Group/')) return family ? 'family' : undefined;
    if (ref.identifier?.system === BSN_SYSTEM) return byBsn.get(ref.identifier.value ?? '');
    return undefined;
  };
  return entries
    .filter((e) => e.resource)
    .map((e) => {
      const resource = e.resource!;
      const cls = classify(resource, catalogue);
      let owner: string | undefined;
      if (resource.resourceType === 'Patient') owner = patientOwner(resource);
      else if (resource.resourceType === 'RelatedPerson') owner = ownerOfRef(resource.patient);
      else {
        const record = resource as unknown as Record<string, unknown>;
        const path = catalogue.personPaths.find((p) => record[p] !== undefined);
        if (path) {
          const value = record[path];
          const ref = (Array.isArray(value) ? value[0] : value) as Reference;
          owner = ownerOfRef(ref);
        } else {
          // Not about a person (an Organization, a Practitioner): it travels with the subject's data.
          owner = family ? 'family' : persons[0]!.ref;
        }
      }
      const record = resource as unknown as Record<string, string | undefined>;
      const date =
        record.recordedDate ??
        record.authoredOn ??
        record.created ??
        record.date ??
        record.issued ??
        resource.meta?.lastUpdated;
      const reference = resource.id ? `${resource.resourceType}/${resource.id}` : e.fullUrl;
      return {
        entry: e,
        resource,
        owner,
        item: {
          resourceType: resource.resourceType,
          ...decisionData(cls, catalogue),
          date,
          reference,
          codes: clinicalCodes(resource),
        },
      };
    });
}

function obligationLabel(code: string): Coding {
  return { system: OBLIGATION_SYSTEM, code };
}

function minimisePayload(
  req: DecisionRequest,
  result: Decision,
  persons: PersonFacts[],
  basisFor: BasisFn,
  catalogue: Catalogue,
  at: Date,
  options: DecideOptions,
  legal: LegalBasisEntry | undefined,
): Decision {
  const byRef = new Map(persons.map((p) => [p.ref, p]));
  // Research receives pseudonymised data only, whatever the basis (a consent included).
  const pseudonymised = legal?.pseudonymise === true || receivesPseudonymsOnly(req.recipientRole);
  const kept: BundleEntry[] = [];
  const obligations: Obligation[] = [...result.obligations];
  const reasons = [...result.reasons];
  const disclosed = new Set<string>();
  const redacted = new Set<string>();
  const consents = new Set<string>();
  const labels = new Map<string, Coding>();
  for (const a of attribute(req, persons, req.payload!.entry ?? [], catalogue)) {
    const owners = a.owner === 'family' ? persons : a.owner ? [byRef.get(a.owner)!] : [];
    const bases = owners.map((p) => basisFor(p, a.item));
    const permitted = owners.length > 0 && bases.every((b) => b.verdict === 'permit');
    const name = a.item.reference ?? a.resource.resourceType;
    // Content the table cannot classify is decided as every sensitive category at once, and reported as what it is.
    const unknown = a.item.categories.includes(UNKNOWN_CONTENT);
    const reported = unknown ? [UNKNOWN_CONTENT] : a.item.categories;
    if (!permitted) {
      reported.forEach((c) => redacted.add(c));
      obligations.push({
        code: 'REDACT',
        detail: unknown
          ? `${name} holds unknown content (the gateway cannot tell what it holds) and the basis does not cover all data`
          : `${name} (${a.item.categories.join(', ')}) is not covered by the basis`,
        removed: name,
      });
      reasons.push({
        code: unknown ? 'unknown-content-removed' : 'data-removed',
        params: {
          resource: name,
          categories: reported.join(', '),
          person: a.owner ?? { en: 'someone outside this request', nl: 'iemand buiten dit verzoek' },
        },
      });
      continue;
    }
    bases.forEach((b) => b.consents.forEach((c) => consents.add(c)));
    reported.forEach((c) => disclosed.add(c));
    let resource: Resource = structuredClone(a.resource);
    const adolescent = owners.some((p) => {
      const age = p.patient.birthDate ? ageOn(p.patient.birthDate, at) : undefined;
      return (
        age !== undefined &&
        age >= catalogue.adolescentLabel.fromAge &&
        age <= catalogue.adolescentLabel.toAge
      );
    });
    const resourceLabels = [
      ...a.item.labels,
      ...(adolescent
        ? [{ system: catalogue.adolescentLabel.system, code: catalogue.adolescentLabel.code }]
        : []),
    ];
    if (legal?.mask.length) {
      const masked = mask(resource, legal.mask);
      if (masked.length)
        obligations.push({ code: 'MASK', detail: `Removed ${masked.join(', ')}`, removed: name });
    }
    if (pseudonymised) {
      obligations.push({
        code: 'PSEUD',
        detail: `Identifiers of ${name} replaced by pseudonyms (${PSEUDONYM_SYSTEM})`,
        removed: name,
      });
    }
    resource = withLabels(resource, resourceLabels);
    resourceLabels.forEach((l) => labels.set(`${l.system}|${l.code}`, l));
    kept.push({ ...a.entry, resource });
  }
  if (kept.length === 0 && (req.payload!.entry ?? []).length > 0) {
    return {
      ...deny([
        { code: 'nothing-to-disclose', params: {} },
        ...reasons.filter((r) => r.code !== 'consent-permits' && r.code !== 'legal-basis-permits'),
      ]),
      redacted: [...redacted],
    };
  }
  const obligationCodes = [...new Set(obligations.map((o) => o.code))].filter(
    (c) => c === 'REDACT' || c === 'MASK' || c === 'PSEUD',
  );
  const purpose = req.purpose.system
    ? { system: req.purpose.system, code: req.purpose.code }
    : { code: req.purpose.code };
  const bundleLabels = [...labels.values(), purpose as Coding, ...obligationCodes.map(obligationLabel)];
  return {
    ...result,
    consents: result.basis === 'consent' ? [...consents] : result.consents,
    reasons,
    obligations,
    disclosed: [...disclosed],
    redacted: [...redacted],
    delivered: pseudonymised
      ? pseudonymiseBundle(labelledBundle(req.payload!, kept, bundleLabels), options.pseudonymKey)
      : labelledBundle(req.payload!, kept, bundleLabels),
  };
}

/** A request for categories without data: each category is decided as a piece of data of that category. */
function decideCategories(
  req: DecisionRequest,
  result: Decision,
  persons: PersonFacts[],
  basisFor: BasisFn,
  catalogue: Catalogue,
): Decision {
  const disclosed: string[] = [];
  const redacted: string[] = [];
  const obligations = [...result.obligations];
  for (const category of req.categories!) {
    const info = catalogue.categories.get(category);
    const item: DataItem = {
      categories: [category],
      labels: info?.labels ?? [],
      sensitive: info?.sensitive ? [category] : [],
    };
    const ok = info !== undefined && persons.some((p) => basisFor(p, item).verdict === 'permit');
    if (ok) disclosed.push(category);
    else {
      redacted.push(category);
      obligations.push({ code: 'REDACT', detail: `Category ${category} is not covered by the basis` });
    }
  }
  if (disclosed.length === 0) return { ...deny([{ code: 'nothing-to-disclose', params: {} }]), redacted };
  return { ...result, obligations, disclosed, redacted };
}
