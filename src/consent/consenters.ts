// Who must consent (Dutch age rules) and whether the consents on record add up to a basis for one person.
import type { Consent, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { ageOn } from '../time/amsterdam.js';
import { ageBand, type AgeBand } from './age.js';
import { BSN_SYSTEM, PARENTAL_AUTHORITY_URL } from './constants.js';
import { isPrivacyConsent } from './consent-scope.js';
import { evaluateConsent, type DataItem } from './provisions.js';
import type { DecideOptions, DecisionRequest, Reason } from './types.js';

export type Label = { en: string; nl: string };

const RELATION: Record<string, Label> = {
  MTH: { en: 'the mother', nl: 'de moeder' },
  FTH: { en: 'the father', nl: 'de vader' },
  GUARD: { en: 'the guardian', nl: 'de voogd' },
  PRN: { en: 'a parent', nl: 'een ouder' },
  STPMTH: { en: 'the stepmother', nl: 'de stiefmoeder' },
  STPFTH: { en: 'the stepfather', nl: 'de stiefvader' },
};

export function hasParentalAuthority(person: RelatedPerson): boolean {
  return (person.extension ?? []).some((e) => e.url === PARENTAL_AUTHORITY_URL && e.valueBoolean === true);
}

/** One person the decision is about, with what the engine needs to know of them. */
export interface PersonFacts {
  ref: string;
  bsn?: string;
  patient: Patient;
  /** Parents and guardians with parental authority (gezag), by reference. */
  gezag: Map<string, RelatedPerson>;
  /** Active patient-privacy consents about this person, given by someone who may consent for them. */
  consents: Consent[];
}

export function personFacts(patient: Patient, related: RelatedPerson[], consents: Consent[]): PersonFacts {
  const ref = `Patient/${patient.id}`;
  const gezag = new Map(
    related
      .filter((r) => r.patient?.reference === ref && hasParentalAuthority(r))
      .map((r) => [`RelatedPerson/${r.id}`, r]),
  );
  const mayConsent = new Set([ref, ...gezag.keys()]);
  const valid = consents.filter(
    (c) =>
      c.status === 'active' &&
      c.patient?.reference === ref &&
      isPrivacyConsent(c) &&
      (c.performer ?? []).some((p) => p.reference !== undefined && mayConsent.has(p.reference)) &&
      !givenBeforeBirth(c, patient),
  );
  return {
    ref,
    bsn: patient.identifier?.find((i) => i.system === BSN_SYSTEM)?.value,
    patient,
    gezag,
    consents: valid,
  };
}

/** A consent dated before the person was born cannot be theirs or their parents' for them: it does not count. */
function givenBeforeBirth(consent: Consent, patient: Patient): boolean {
  if (!consent.dateTime || !patient.birthDate) return false;
  const given = new Date(consent.dateTime);
  return !Number.isNaN(given.getTime()) && given < new Date(patient.birthDate);
}

export function personLabel(person: PersonFacts, ref: string): Label {
  if (ref === person.ref) return { en: 'the young person', nl: 'de jongere' };
  const r = person.gezag.get(ref);
  const code = r?.relationship?.flatMap((x) => x.coding ?? []).find((c) => c.code && RELATION[c.code])?.code;
  const base = (code && RELATION[code]) || { en: 'a parent', nl: 'een ouder' };
  return { en: `${base.en} (gezag)`, nl: `${base.nl} (gezag)` };
}

export function joinLabels(labels: Label[]): Label {
  const join = (xs: string[], and: string) =>
    xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} ${and} ${xs[xs.length - 1]}`;
  return {
    en: join(
      labels.map((l) => l.en),
      'and',
    ),
    nl: join(
      labels.map((l) => l.nl),
      'en',
    ),
  };
}

export interface Requirement {
  required: string[];
  age: number;
  band: AgeBand;
}

/** The people whose consent is needed on a date (Jeugdwet 7.3.4/7.3.5, WGBO): a reason instead where facts are missing. */
export function requiredConsenters(person: PersonFacts, at: Date): Requirement | Reason {
  if (!person.patient.birthDate) return { code: 'birthdate-missing', params: { subject: person.ref } };
  const age = ageOn(person.patient.birthDate, at);
  const band = ageBand(age);
  const parents = [...person.gezag.keys()];
  if (band === 'under-12' || band === '12-15') {
    if (parents.length === 0) return { code: 'no-gezag-holder', params: { subject: person.ref, age } };
    return { required: band === 'under-12' ? parents : [person.ref, ...parents], age, band };
  }
  return { required: [person.ref], age, band };
}

/** Who gave (or refused) a consent: its performers' references. */
export const performersOf = (c: Consent): string[] =>
  (c.performer ?? []).flatMap((p) => (typeof p?.reference === 'string' ? [p.reference] : []));

export interface PersonBasis {
  verdict: 'permit' | 'deny';
  consents: string[];
  reason: Reason;
}

function subjectKind(band: AgeBand): Label {
  if (band === 'under-12') return { en: 'child', nl: 'kind' };
  if (band === 'adult') return { en: 'person', nl: 'persoon' };
  return { en: 'young person', nl: 'jongere' };
}

/** Whether the consents on record permit this request (and item) for one person. */
export function consentBasis(
  person: PersonFacts,
  req: DecisionRequest,
  at: Date,
  options: DecideOptions,
  item?: DataItem,
): PersonBasis {
  const requirement = requiredConsenters(person, at);
  if ('code' in requirement) return { verdict: 'deny', consents: [], reason: requirement };
  const { required, age, band } = requirement;
  const verdicts = person.consents.map((c) => ({ c, v: evaluateConsent(c, req, at, item) }));
  const refusal = verdicts.find(
    ({ c, v }) => v === 'deny' && performersOf(c).some((p) => required.includes(p)),
  );
  if (refusal) {
    const who = performersOf(refusal.c).filter((p) => required.includes(p));
    return {
      verdict: 'deny',
      consents: [],
      reason: {
        code: 'consent-refused',
        params: {
          consent: `Consent/${refusal.c.id}`,
          performer: joinLabels(who.map((p) => personLabel(person, p))),
          recipient: req.recipientOrg,
          purpose: req.purpose.code ?? '',
        },
      },
    };
  }
  const permitting = verdicts.filter(({ v }) => v === 'permit').map(({ c }) => c);
  const given = new Set(permitting.flatMap(performersOf));
  const missing = required.filter((r) => !given.has(r));
  const permitWith = (consents: Consent[]): PersonBasis => ({
    verdict: 'permit',
    consents: consents.map((c) => `Consent/${c.id}`),
    reason: {
      code: 'consent-permits',
      params: {
        consents: consents.map((c) => `Consent/${c.id}`).join(', '),
        consenters: joinLabels(
          [...new Set(consents.flatMap(performersOf))].map((p) => personLabel(person, p)),
        ),
        recipient: req.recipientOrg,
        purpose: req.purpose.code ?? '',
      },
    },
  });
  if (missing.length === 0)
    return permitWith(permitting.filter((c) => performersOf(c).some((p) => required.includes(p))));

  // Consents given before the child entered its current age band: valid until withdrawn (default) or not at all.
  for (const c of permitting) {
    if (!c.dateTime || !person.patient.birthDate) continue;
    const then = new Date(c.dateTime);
    // Parents' consent never speaks for an adult, and a consent dated before the birth spoke for nobody.
    if (then >= at || band === 'adult' || then < new Date(person.patient.birthDate)) continue;
    const earlier = requiredConsenters(person, then);
    if ('code' in earlier || earlier.band === band) continue;
    const before = permitting.filter((x) => x.dateTime && new Date(x.dateTime) <= then);
    const givenThen = new Set(before.flatMap(performersOf));
    if (!earlier.required.every((r) => givenThen.has(r))) continue;
    if (options.ageTransitionPolicy === 'keep-until-withdrawn') return permitWith(before);
    return {
      verdict: 'deny',
      consents: [],
      reason: {
        code: 'consent-renewal-required',
        params: {
          performers: joinLabels(earlier.required.map((p) => personLabel(person, p))),
          subject: person.ref,
          band: band === '12-15' ? 12 : 16,
          required: joinLabels(required.map((p) => personLabel(person, p))),
        },
      },
    };
  }
  const kind = subjectKind(band);
  return {
    verdict: 'deny',
    consents: [],
    reason: {
      code: 'consent-missing',
      params: {
        missing: joinLabels(missing.map((p) => personLabel(person, p))),
        subjectKind: kind.en,
        subjectKindNl: kind.nl,
        age,
      },
    },
  };
}
