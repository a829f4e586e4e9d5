// POST /fhir/{type}/$validate: the validation the gateway applies to every incoming resource, without storing anything.
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { DIRECTORY_TYPES, PERSON_INDEX_TYPES } from '../../auth/access.js';
import { PAYLOAD_TYPES, type ValidationTier } from '../../mappings/payload-types.js';
import { checkFhir } from '../../mappings/validate.js';
import { defineOperation } from '../define-operation.js';
import { sendFhir } from '../http.js';
import { informational } from '../../fhir/outcomes.js';
import { isError, refusal } from '../../fhir/verdict.js';
import { param } from '../operation-spec.js';

/** Types an agency sends to the gateway (index entries and payload content) that $validate is offered for. */
const VALIDATED_TYPES = ['Bundle', ...PAYLOAD_TYPES];
const PERSON_INDEX: readonly string[] = PERSON_INDEX_TYPES;
/** Types $validate checks as the gateway keeps them (index and directory entries); the rest as payload content. */
const KEPT_TYPES: readonly string[] = [...PERSON_INDEX_TYPES, ...DIRECTORY_TYPES];

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
    const valid = informational(`De ${type} is geldig / The ${type} is valid`);
    sendFhir(res, 200, { ...valid, issue: [...(valid.issue ?? []), ...issues] });
  };
}

/**
 * $validate on each type: asking "would you take this" needs what taking it needs, an index entry its create's
 * permission and payload content an exchange's.
 */
export const validateOperations = VALIDATED_TYPES.map((type) => {
  const kept = KEPT_TYPES.includes(type);
  const check = validateOperation(type, kept ? 'kept' : 'payload');
  return defineOperation({
    route: `POST /fhir/${type}/$validate`,
    permission: !kept ? 'exchange' : PERSON_INDEX.includes(type) ? 'person-index:write' : 'directory:write',
    summary: `Validate a ${type} as the gateway would`,
    tag: 'Validation',
    description: `Validates a ${type} as the gateway would (FHIR R4 structure and invariants, the Ketenpoort profile, BSN 11-test, codes), storing nothing.`,
    input: [param('resource', 'Resource', 1, '1', `The ${type} (or the resource itself as the body)`)],
    returns: 'OperationOutcome',
    affectsState: false,
    handler: (_ctx, req, res) => check(req, res),
  });
});
