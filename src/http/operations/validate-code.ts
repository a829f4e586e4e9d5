// GET /fhir/CodeSystem/$validate-code and /fhir/ValueSet/$validate-code: is this code in one of the gateway's
// CodeSystems (or the ValueSet of all its codes)? Free of personal data, so served without a token.
import type { Parameters } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { flattenConcepts } from '../../mappings/profiles.js';
import { systemFor } from '../code-systems.js';
import { defineOperation } from '../define-operation.js';
import { sendFhir } from '../http.js';
import { param } from '../operation-spec.js';
import { badRequest } from '../../fhir/outcomes.js';

function validateCode(req: Request, res: Response, kind: 'CodeSystem' | 'ValueSet'): void {
  const cs = systemFor(req, kind);
  const code = typeof req.query.code === 'string' ? req.query.code : undefined;
  if (!code) throw badRequest('Parameter "code" is required');
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

export const codeSystemValidateCodeOperation = defineOperation({
  route: 'GET /fhir/CodeSystem/$validate-code',
  permission: 'public',
  summary: 'Is this code in the CodeSystem?',
  tag: 'Terminology',
  description: 'Says whether a code is in one of the gateway\u2019s CodeSystems.',
  input: [
    param('url', 'uri', 1, '1', 'The CodeSystem (also as system)'),
    param('code', 'code', 1, '1', 'The code'),
  ],
  returns: 'Parameters',
  affectsState: false,
  handler: (_ctx, req, res) => validateCode(req, res, 'CodeSystem'),
});

export const valueSetValidateCodeOperation = defineOperation({
  route: 'GET /fhir/ValueSet/$validate-code',
  permission: 'public',
  summary: 'Is this code in the ValueSet?',
  tag: 'Terminology',
  description: 'Says whether a code is in one of the gateway\u2019s ValueSets.',
  input: [
    param('url', 'uri', 1, '1', 'The ValueSet'),
    param('system', 'uri', 0, '1', 'The code system of the code'),
    param('code', 'code', 1, '1', 'The code'),
  ],
  returns: 'Parameters',
  affectsState: false,
  handler: (_ctx, req, res) => validateCode(req, res, 'ValueSet'),
});
