// POST /fhir/{type}/$validate: the validation the gateway applies to every incoming resource, without storing anything.
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { validateFhir } from '../../mappings/validate.js';
import { sendFhir } from '../http.js';
import { FhirError, informational } from '../outcomes.js';

/** Validates the body (a resource, or Parameters with a `resource` part) as `type`; 200 with the issues found. */
export function validateOperation(type: string) {
  return (req: Request, res: Response): void => {
    const body = req.body as Resource & { parameter?: { name: string; resource?: Resource }[] };
    const candidate =
      body?.resourceType === 'Parameters' && type !== 'Parameters'
        ? (Array.isArray(body.parameter) ? body.parameter : []).find((p) => p?.name === 'resource')?.resource
        : body;
    try {
      validateFhir(candidate, [type], { thorough: true });
      sendFhir(res, 200, informational(`The ${type} is valid`));
    } catch (err) {
      if (!(err instanceof FhirError) || (err.status !== 422 && err.status !== 400)) throw err;
      // $validate answers 200 with the issues; only a body that is not a resource at all is a 400.
      if (err.status === 400) throw err;
      sendFhir(res, 200, err.outcome as OperationOutcome);
    }
  };
}
