// What a permitted request discloses: each entry of the payload (or each category asked for) decided for the persons
// it is about, and what goes minimised (masked, pseudonymised) and labelled; what no basis covers is redacted.
import { BSN_SYSTEM } from './constants.js';
import type { BundleEntry, Coding, Resource } from '@medplum/fhirtypes';
import { ageOn } from '../time/amsterdam.js';
import { attribute } from './attribute.js';
import type { Catalogue, LegalBasisEntry } from './catalogue.js';
import { UNKNOWN_CONTENT } from './classify.js';
import type { PersonBasis, PersonFacts } from './consenters.js';
import { PSEUDONYM_SYSTEM } from './constants.js';
import {
  labelledBundle,
  mask,
  OBLIGATION_SYSTEM,
  pseudonymiseBundle,
  receivesPseudonymsOnly,
  withLabels,
} from './minimise.js';
import type { DataItem } from './provisions.js';
import type { DecideOptions, Decision, DecisionRequest, Obligation, Reason } from './types.js';

/** The basis for one person and one piece of data (or the request as a whole when item is undefined). */
export type BasisFn = (person: PersonFacts, item?: DataItem) => PersonBasis;

/** A deny: nothing disclosed, for these reasons. */
export const deny = (reasons: Reason[]): Decision => ({
  decision: 'deny',
  consents: [],
  reasons,
  obligations: [],
  disclosed: [],
  redacted: [],
});

function obligationLabel(code: string): Coding {
  return { system: OBLIGATION_SYSTEM, code };
}

export function minimisePayload(
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
      ? pseudonymiseBundle(
          labelledBundle(req.payload!, kept, bundleLabels),
          options.pseudonymKey,
          undefined,
          [req.subjectBsn, ...persons.flatMap(bsnsOf)],
        )
      : labelledBundle(req.payload!, kept, bundleLabels),
  };
}

/** The BSNs of a person and of the parents with gezag: none of them may pass pseudonymisation hidden in a value. */
function bsnsOf(person: PersonFacts): string[] {
  const parents = [...person.gezag.values()].flatMap((r) => r.identifier ?? []);
  return [
    ...(person.bsn ? [person.bsn] : []),
    ...parents.flatMap((i) => (i.system === BSN_SYSTEM && i.value ? [i.value] : [])),
  ];
}

/** A request for categories without data: each category is decided as a piece of data of that category. */
export function decideCategories(
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
