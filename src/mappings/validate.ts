// Validation of incoming FHIR: structure against the R4 definitions (@medplum/core), then the gateway's own rules.
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from '../gateway/outcomes.js';
import { BSN_SYSTEM } from '../store/resources.js';
import { isValidBsn } from './bsn.js';
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

/** Rules of the gateway beyond the base specification. */
function gatewayRules(resource: Resource, path: string, required: boolean): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [
    ...(required ? missingRequired(resource, path) : []),
    ...checkProfile(resource, path),
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
  if (r.birthDate && r.birthDate > new Date().toISOString().slice(0, 10)) {
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
  if (resource.resourceType === 'Patient' && !(r.identifier ?? []).some((id) => id.system === BSN_SYSTEM)) {
    issues.push(issue(`${path}.identifier`, 'a Patient needs a BSN identifier', 'required'));
  }
  if (resource.resourceType === 'Bundle') {
    (resource.entry ?? []).forEach((e, i) => {
      if (e.resource) issues.push(...gatewayRules(e.resource, `${path}.entry[${i}].resource`, required));
    });
  }
  if (resource.resourceType === 'Parameters') {
    (resource.parameter ?? []).forEach((p, i) => {
      if (p.resource) issues.push(...gatewayRules(p.resource, `${path}.parameter[${i}].resource`, required));
    });
  }
  return issues;
}

/**
 * Checks that a parsed body is a FHIR resource of the expected type (400 otherwise) that is valid (422 with the
 * element path of every issue otherwise): the fast structural pass (schema and required elements), the Ketenpoort
 * profiles and the gateway's rules. `thorough` (as $validate asks) also runs @medplum/core's full validation with the
 * base specification's FHIRPath invariants; so does any resource the structural pass finds fault with, for the most
 * precise messages.
 */
export function validateFhir<T extends Resource>(
  body: unknown,
  expectedTypes?: readonly string[],
  opts: { thorough?: boolean } = {},
): T {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('The body must be a FHIR resource (a JSON object)');
  const type = (body as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string') throw badRequest('The body has no resourceType', 'resourceType');
  if (expectedTypes && !expectedTypes.includes(type)) {
    throw badRequest(`Expected resourceType ${expectedTypes.join(' or ')}, got ${type}`, 'resourceType');
  }
  // Well-formedness first: a null, a string where R4 has an array or an object, an unknown nested resource or a
  // control character is refused before any other rule (or anything stored or decided) reads the resource.
  const pass = structuralPass(body as Resource);
  if (!pass.wellFormed) throw unprocessable(pass.issues);
  const structural = opts.thorough ? [] : pass.issues;
  const full = opts.thorough || structural.length > 0;
  const issues: OperationOutcomeIssue[] = [];
  if (full) {
    loadFhirDefinitions();
    try {
      validateResource(body as Resource);
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        issues.push(
          ...(err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal'),
        );
      } else {
        throw badRequest(`The resource could not be read: ${(err as Error).message}`);
      }
    }
    if (issues.length === 0) issues.push(...structural);
  }
  issues.push(...gatewayRules(body as Resource, type, !full));
  if (issues.length) throw unprocessable(issues);
  return body as T;
}
