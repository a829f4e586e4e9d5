// $expand over HTTP, without a token: the ValueSet of a CodeSystem's codes, filtered; an unknown ValueSet is a 404.
import type { OperationOutcome, ValueSet } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.js';
import { fhir, testSandbox } from '../../../test/helpers.js';

const CATEGORIES = 'https://ketenpoort.nl/fhir/ValueSet/data-category';

describe('$expand', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await testSandbox();
  });
  afterAll(() => sandbox?.close());

  it('expands the data categories, filtered by text', async () => {
    const res = await fhir<ValueSet>(
      sandbox.url,
      undefined,
      'GET',
      `/fhir/ValueSet/$expand?url=${CATEGORIES}&filter=care-plan`,
    );
    expect(res.status).toBe(200);
    expect(res.body.url).toBe(CATEGORIES);
    expect(res.body.expansion?.contains?.map((c) => c.code)).toContain('care-plan');
    expect(res.body.expansion?.contains?.map((c) => c.code)).not.toContain('identification');
  });

  it('answers 404 for a ValueSet the gateway does not have', async () => {
    const url = 'https://example.org/ValueSet/unknown';
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      undefined,
      'GET',
      `/fhir/ValueSet/$expand?url=${url}`,
    );
    expect(res.status).toBe(404);
    expect(res.body.issue?.[0]?.diagnostics).toBe(`No ValueSet with url ${url}`);
  });
});
