// Validation of incoming FHIR: structure against the R4 definitions (@medplum/core), then the gateway's own rules.
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { unreadable, type Verdict } from '../fhir/verdict.js';
import { dutchDate } from '../time/amsterdam.js';
import { systemClock } from '../time/clock.js';
import { BSN_SYSTEM } from '../store/resources.js';
import { isValidBsn } from './bsn.js';
import { isCalendarDate } from './fields.js';
import { MAX_PAYLOAD_ENTRIES, PAYLOAD_TYPES, type ValidationTier } from './payload-types.js';
import { checkProfile, profileFor } from './profile-check.js';
import { PROFILE_BASE } from './profiles.js';
import { loadFhirDefinitions, missingRequired, structuralPass } from './structure.js';

export { loadFhirDefinitions };

function issue(
  expression: string,
  diagnostics: string,
  code: OperationOutcomeIssue['code'] = 'business-rule',
): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, expression: [expression] };
}

/**
 * Rules of the gateway beyond the base specification; `tier` says whether the Ketenpoort profiles apply by default,
 * `today` is the Dutch calendar date (YYYY-MM-DD) a birth date may not lie after.
 */
function gatewayRules(
  resource: Resource,
  path: string,
  required: boolean,
  tier: ValidationTier,
  today: string,
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [
    ...(required ? missingRequired(resource, path) : []),
    ...checkProfile(resource, path, tier),
  ];
  const r = resource as Resource & { identifier?: { system?: string; value?: string }[]; birthDate?: string };
  (r.identifier ?? []).forEach((id, i) => {
    if (id.system === BSN_SYSTEM && (!id.value || !isValidBsn(id.value))) {
      issues.push(
        issue(
          `${path}.identifier[${i}].value`,
          `"${id.value ?? ''}" is not a valid BSN (nine digits, 11-test)`,
        ),
      );
    }
  });
  if (
    typeof r.birthDate === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(r.birthDate) &&
    !isCalendarDate(r.birthDate)
  ) {
    issues.push(issue(`${path}.birthDate`, `birthDate ${r.birthDate} is not a date that exists`));
  } else if (r.birthDate && r.birthDate > today) {
    // Today as the Netherlands counts it: a baby born at 00:30 in Amsterdam is born today, not (in UTC) tomorrow. A
    // partial birth date (YYYY, YYYY-MM) compares as text, so the current year and month are not in the future.
    issues.push(issue(`${path}.birthDate`, 'birthDate lies in the future'));
  }
  if (resource.resourceType === 'Consent') {
    if (!resource.patient?.reference)
      issues.push(
        issue(`${path}.patient`, 'a Consent must name the patient whose data it covers', 'required'),
      );
    if (!resource.performer?.length)
      issues.push(issue(`${path}.performer`, 'a Consent must name who consented (performer)', 'required'));
  }
  if (resource.resourceType === 'Task' && profileFor(resource)?.url === `${PROFILE_BASE}/escalation`) {
    const level = resource.extension?.find(
      (e) => e.url === `${PROFILE_BASE}/escalation-level`,
    )?.valuePositiveInt;
    if (level !== undefined && (level < 1 || level > 3))
      issues.push(issue(`${path}.extension`, `the escalation level is 1, 2 or 3, not ${level}`));
    if (resource.restriction?.period && !resource.restriction.period.end)
      issues.push(
        issue(
          `${path}.restriction.period.end`,
          'an escalation needs a deadline (restriction.period.end)',
          'required',
        ),
      );
  }
  // The person index needs the BSN; a payload Patient may lack one (a newborn, someone not in the BRP).
  if (
    tier === 'kept' &&
    resource.resourceType === 'Patient' &&
    !(r.identifier ?? []).some((id) => id.system === BSN_SYSTEM)
  ) {
    issues.push(issue(`${path}.identifier`, 'a Patient needs a BSN identifier', 'required'));
  }
  if (resource.resourceType === 'Bundle') {
    if (tier === 'payload') issues.push(...payloadRules(resource, path));
    (resource.entry ?? []).forEach((e, i) => {
      if (e.resource)
        issues.push(...gatewayRules(e.resource, `${path}.entry[${i}].resource`, required, tier, today));
    });
  }
  if (resource.resourceType === 'Parameters') {
    // An operation's `payload` (what an exchange carries) is payload content; other resources (a report's
    // trajectories) are what the gateway keeps.
    (resource.parameter ?? []).forEach((p, i) => {
      const inner = p.name === 'payload' ? 'payload' : tier;
      if (p.resource)
        issues.push(...gatewayRules(p.resource, `${path}.parameter[${i}].resource`, required, inner, today));
    });
  }
  return issues;
}

export interface ValidateOptions {
  /** Also run @medplum/core's full validation; what only it finds is reported as a warning (the verdict stays). */
  thorough?: boolean;
  /** `kept` (default): the Ketenpoort profiles apply by default; `payload`: only those the resource claims. */
  tier?: ValidationTier;
  /** The moment the resource is checked at (a birth date may not lie after its Dutch date); the system time if absent. */
  at?: Date;
}

/**
 * The one validation every incoming resource passes, returning every issue (errors, warnings, information) instead of
 * throwing for them. A body that is not a FHIR resource of the expected type is refused as unreadable (400); one that
 * is not well-formed as invalid (422, with the element path of every issue). Otherwise: the fast structural pass
 * (schema and required elements), the Ketenpoort profiles and the gateway's rules; errors among the issues refuse the
 * resource (422). `thorough` (as $validate asks) also runs @medplum/core's full validation with the base
 * specification's FHIRPath invariants; so does any resource the structural pass finds fault with, for the most precise
 * messages. $validate and $exchange both call it, so they give the same verdict on the same resource; `accepted()`
 * (src/fhir/verdict.ts) turns the verdict into the resource or its OperationOutcome error.
 */
export function checkFhir<T extends Resource = Resource>(
  body: unknown,
  expectedTypes?: readonly string[],
  opts: ValidateOptions = {},
): Verdict<T> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return unreadable(
      'De body moet een FHIR-resource zijn (een JSON-object) / The body must be a FHIR resource (a JSON object)',
    );
  const type = (body as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string')
    return unreadable('De body heeft geen resourceType / The body has no resourceType', 'resourceType');
  if (expectedTypes && !expectedTypes.includes(type)) {
    return unreadable(
      `Verwacht resourceType ${expectedTypes.join(' of ')}, niet ${type} / Expected resourceType ${expectedTypes.join(' or ')}, got ${type}`,
      'resourceType',
    );
  }
  // Well-formedness first: a null, a string where R4 has an array or an object, an unknown nested resource or a
  // control character is refused before any other rule (or anything stored or decided) reads the resource.
  const pass = structuralPass(body as Resource);
  if (!pass.wellFormed) return { refused: 'invalid', issues: pass.issues };
  const structural = pass.issues;
  const issues: OperationOutcomeIssue[] = [];
  // A structural fault is reported with the full validation's more precise messages.
  if (structural.length > 0) {
    const full = fullValidation(body as Resource);
    if (!Array.isArray(full)) return full;
    issues.push(...full);
    if (issues.length === 0) issues.push(...structural);
  }
  const today = dutchDate(opts.at ?? systemClock());
  issues.push(...gatewayRules(body as Resource, type, structural.length === 0, opts.tier ?? 'kept', today));
  if (opts.thorough && !issues.some((i) => i.severity === 'error')) {
    // The base specification's FHIRPath invariants: reported, but the verdict is the one $exchange gives.
    const full = fullValidation(body as Resource);
    if (!Array.isArray(full)) return full;
    for (const i of full) issues.push({ ...i, severity: 'warning' });
  }
  return { issues, value: body as T };
}

function fullValidation(resource: Resource): OperationOutcomeIssue[] | Verdict<never> {
  loadFhirDefinitions();
  try {
    validateResource(resource);
    return [];
  } catch (err) {
    if (err instanceof OperationOutcomeError)
      return (err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    return unreadable(
      `De resource kon niet worden gelezen / The resource could not be read: ${(err as Error).message}`,
    );
  }
}

/**
 * A payload Bundle's own safety rules: only the types a payload may carry, a bounded size, and every `urn:`
 * reference resolving to an entry of the Bundle.
 */
function payloadRules(bundle: Bundle, path: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  if (entries.length > MAX_PAYLOAD_ENTRIES)
    issues.push(
      issue(
        `${path}.entry`,
        `een payload bevat hoogstens ${MAX_PAYLOAD_ENTRIES} entries, niet ${entries.length} / a payload holds at most ${MAX_PAYLOAD_ENTRIES} entries, not ${entries.length}`,
      ),
    );
  const fullUrls = new Set(entries.flatMap((e) => (typeof e?.fullUrl === 'string' ? [e.fullUrl] : [])));
  entries.forEach((e, i) => {
    const type = e?.resource?.resourceType;
    if (type && !(PAYLOAD_TYPES as readonly string[]).includes(type))
      issues.push(
        issue(
          `${path}.entry[${i}].resource`,
          `een payload bevat geen ${type} / a payload does not carry ${type} resources (accepted: ${PAYLOAD_TYPES.join(', ')})`,
          'not-supported',
        ),
      );
    for (const at of urnReferences(e?.resource, `${path}.entry[${i}].resource`))
      if (!fullUrls.has(at.reference))
        issues.push(
          issue(
            at.path,
            `de verwijzing ${at.reference} wijst naar geen entry van de Bundle / the reference ${at.reference} does not resolve to an entry of the Bundle`,
          ),
        );
  });
  return issues;
}

/** Every `reference` of the form urn:uuid:/urn:oid: inside a resource, with its path. */
function urnReferences(value: unknown, at: string, depth = 0): { reference: string; path: string }[] {
  if (!value || typeof value !== 'object' || depth > 24) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => urnReferences(v, `${at}[${i}]`, depth + 1));
  const out: { reference: string; path: string }[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'reference' && typeof v === 'string' && v.startsWith('urn:'))
      out.push({ reference: v, path: `${at}.reference` });
    else if (k !== 'contained' && v && typeof v === 'object')
      out.push(...urnReferences(v, `${at}.${k}`, depth + 1));
  }
  return out;
}
