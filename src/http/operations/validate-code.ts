// GET /fhir/CodeSystem/$validate-code and /fhir/ValueSet/$validate-code: is this code in one of the gateway's
// CodeSystems (or the ValueSet of all its codes)? Free of personal data, so served without a token.
import type { Parameters } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { flattenConcepts } from '../../mappings/profiles.js';
import { systemFor } from '../code-systems.js';
import { defineOperation } from '../define-operation.js';
import { sendFhir } from '../http.js';
import { param, type OperationParam } from '../operation-spec.js';
import { badRequest } from '../../fhir/outcomes.js';

function validateCode(req: Request, res: Response, kind: 'CodeSystem' | 'ValueSet'): void {
  const cs = systemFor(req, kind);
  const code = typeof req.query.code === 'string' ? req.query.code : undefined;
  if (!code) throw badRequest('Parameter "code" is verplicht / Parameter "code" is required');
  const concept = flattenConcepts(cs.concept).find((c) => c.code === code);
  const answer: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'result', valueBoolean: !!concept },
      ...(concept
        ? [{ name: 'display', valueString: concept.display ?? code }]
        : [{ name: 'message', valueString: `Code "${code}" is not in ${cs.url}` }]),
    ],
  };
  sendFhir(res, 200, answer);
}

/** The operation on one kind: the same check, with the parameters that kind takes before the code. */
const validateCodeOn = (kind: 'CodeSystem' | 'ValueSet', input: OperationParam[]) =>
  defineOperation({
    route: `GET /fhir/${kind}/$validate-code`,
    permission: 'public',
    summary: `Is this code in the ${kind}?`,
    tag: 'Terminology',
    description: `Says whether a code is in one of the gateway\u2019s ${kind}s.`,
    input: [...input, param('code', 'code', 1, '1', 'The code')],
    returns: 'Parameters',
    affectsState: false,
    handler: (_ctx, req, res) => validateCode(req, res, kind),
  });

export const codeSystemValidateCodeOperation = validateCodeOn('CodeSystem', [
  param('url', 'uri', 1, '1', 'The CodeSystem (also as system)'),
]);

export const valueSetValidateCodeOperation = validateCodeOn('ValueSet', [
  param('url', 'uri', 1, '1', 'The ValueSet'),
  param('system', 'uri', 0, '1', 'The code system of the code'),
]);
