// POST /fhir/{type}/$validate: the validation the gateway applies to every incoming resource, without storing anything.
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import type { ValidationTier } from '../../mappings/payload-types.js';
import { checkFhir } from '../../mappings/validate.js';
import { sendFhir } from '../http.js';
import { informational } from '../../fhir/outcomes.js';
import { isError, refusal } from '../../fhir/verdict.js';

/**
 * Validates the body (a resource, or Parameters with a `resource` part) as `type`; 200 with the issues found. The
 * verdict is the one the gateway gives the same resource when it arrives (`tier`: as an index entry it keeps, or as
 * payload content of an exchange); the base specification's invariants are added as warnings.
 */
export function validateOperation(type: string, tier: ValidationTier) {
  return (req: Request, res: Response): void => {
    const body = req.body as Resource & { parameter?: { name: string; resource?: Resource }[] };
    const candidate =
      body?.resourceType === 'Parameters' && type !== 'Parameters'
        ? (Array.isArray(body.parameter) ? body.parameter : []).find((p) => p?.name === 'resource')?.resource
        : body;
    const verdict = checkFhir(candidate, [type], { thorough: true, tier });
    // $validate answers 200 with the issues (a body that is not well-formed too); only a body that is not a
    // resource of this type at all is a 400.
    if (verdict.refused === 'unreadable') throw refusal(verdict);
    const issues = verdict.issues;
    if (verdict.refused || issues.some(isError)) {
      sendFhir(res, 200, { resourceType: 'OperationOutcome', issue: issues } satisfies OperationOutcome);
      return;
    }
    const valid = informational(`The ${type} is valid`);
    sendFhir(res, 200, { ...valid, issue: [...(valid.issue ?? []), ...issues] });
  };
}
