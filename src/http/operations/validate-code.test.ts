// $validate-code over HTTP, without a token: a code of the gateway's CodeSystem (and its ValueSet) is found, a missing
// code is a 400.
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.js';
import { fhir, testSandbox } from '../../../test/helpers.js';

const CATEGORY = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';

describe('$validate-code', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
  });
  afterAll(() => sandbox?.close());
  const ask = <T = Parameters>(path: string) => fhir<T>(sandbox.url, undefined, 'GET', path);

  it('finds a data category in the CodeSystem and in the ValueSet of all its codes', async () => {
    const inSystem = await ask(`/fhir/CodeSystem/$validate-code?url=${CATEGORY}&code=care-plan`);
    expect(inSystem.status).toBe(200);
    expect(inSystem.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: true });
    const valueSet = CATEGORY.replace('/CodeSystem/', '/ValueSet/');
    const inSet = await ask(`/fhir/ValueSet/$validate-code?url=${valueSet}&code=no-such-code`);
    expect(inSet.status).toBe(200);
    expect(inSet.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: false });
  });

  it('refuses a question without a code with 400', async () => {
    const res = await ask<OperationOutcome>(`/fhir/CodeSystem/$validate-code?url=${CATEGORY}`);
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toBe('Parameter "code" is required');
  });
});
