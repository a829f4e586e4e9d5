// $validate-code over HTTP, without a token: a code of the gateway's CodeSystem (and its ValueSet) is found, a missing
// code is a 400.
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { operationServer } from '../../../test/operation-server.js';

const CATEGORY = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';

describe('$validate-code', () => {
  const server = operationServer();

  it('finds a data category in the CodeSystem, and not an unknown code in the ValueSet of all its codes', async () => {
    const query = `url=${CATEGORY}&code=care-plan`;
    const inSystem = await server.call<Parameters>(
      undefined,
      'GET',
      `/fhir/CodeSystem/$validate-code?${query}`,
    );
    expect(inSystem.status).toBe(200);
    expect(inSystem.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: true });
    const valueSet = CATEGORY.replace('/CodeSystem/', '/ValueSet/');
    const path = `/fhir/ValueSet/$validate-code?url=${valueSet}&code=no-such-code`;
    const inSet = await server.call<Parameters>(undefined, 'GET', path);
    expect(inSet.status).toBe(200);
    expect(inSet.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: false });
  });

  it('refuses a question without a code with 400', async () => {
    const path = `/fhir/CodeSystem/$validate-code?url=${CATEGORY}`;
    const res = await server.call<OperationOutcome>(undefined, 'GET', path);
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toBe(
      'Parameter "code" is verplicht / Parameter "code" is required',
    );
  });
});
