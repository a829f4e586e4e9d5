// Which Consents a question is about: the consent's category (and R4 scope), the codes a provision names, and the
// data-level restrictions nested under a provision that applies. Pure helpers over Consent resources; no I/O.
import type { Coding, Consent, ConsentProvision, Resource } from '@medplum/fhirtypes';

export const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';

const key = (c: Coding) => `${c.system ?? ''}|${c.code ?? ''}`;

/** The codings a Consent is categorised by: its category and, in R4, its scope (R5 moved the scope into category). */
export function consentCategoryCodings(consent: Consent): Coding[] {
  return [...(consent.scope?.coding ?? []), ...(consent.category ?? []).flatMap((cc) => cc.coding ?? [])];
}

/** Whether a Consent's scope is patient-privacy, given in scope (R4) or, as R5 does, in category. */
export function isPrivacyConsent(consent: Consent): boolean {
  const inCategory = (consent.category ?? []).flatMap((cc) => cc.coding ?? []);
  return [
    ...(consent.scope?.coding ?? []),
    ...inCategory.filter((c) => c.system === CONSENT_SCOPE_SYSTEM),
  ].some((c) => c.code === 'patient-privacy');
}

/**
 * Whether a Consent falls under the categories a question names (LEAP's `category`): no categories asked, every
 * consent; otherwise one of its category (or scope) codings must equal one asked for, system and code.
 */
export function matchesConsentCategory(consent: Consent, wanted: Coding[] | undefined): boolean {
  if (!wanted?.length) return true;
  const have = new Set(consentCategoryCodings(consent).map(key));
  return wanted.some((w) => have.has(key(w)));
}

const MAX_DEPTH = 12;

/** Every coding in a resource (its code, category, type and the codings nested below them), for provision.code. */
export function clinicalCodes(resource: Resource): Coding[] {
  const found: Coding[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v, depth + 1);
      return;
    }
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
      if (name === 'meta' || name === 'text' || name === 'contained') continue;
      if (name === 'coding' && Array.isArray(v)) {
        for (const c of v)
          if (c && typeof c === 'object' && typeof (c as Coding).code === 'string') found.push(c as Coding);
      } else visit(v, depth + 1);
    }
  };
  visit(resource, 0);
  return found;
}

/** The data-level codes a provision restricts by, in LEAP's order: security labels, content classes, clinical codes. */
export function provisionDataCodes(p: ConsentProvision): Coding[] {
  return [
    ...(p.securityLabel ?? []),
    ...(p.class ?? []),
    ...(p.code ?? []).flatMap((cc) => cc.coding ?? []),
  ].map((c) => ({ system: c.system, code: c.code }));
}

/** Codings equal by system and code (a missing system matches any). */
export function sameCoding(a: Coding, b: Coding): boolean {
  return a.code === b.code && (!a.system || !b.system || a.system === b.system);
}
