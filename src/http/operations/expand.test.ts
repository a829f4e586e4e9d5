// $expand over HTTP, without a token: the ValueSet of a CodeSystem's codes, filtered; an unknown ValueSet is a 404.
import type { OperationOutcome, ValueSet } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { operationServer } from '../../../test/operation-server.js';

const CATEGORIES = 'https://ketenpoort.nl/fhir/ValueSet/data-category';

describe('$expand', () => {
  const server = operationServer();

  it('expands the data categories, filtered by text', async () => {
    const path = `/fhir/ValueSet/$expand?url=${CATEGORIES}&filter=care-plan`;
    const res = await server.call<ValueSet>(undefined, 'GET', path);
    expect(res.status).toBe(200);
    expect(res.body.url).toBe(CATEGORIES);
    const codes = res.body.expansion?.contains?.map((c) => c.code);
    expect(codes).toContain('care-plan');
    expect(codes).not.toContain('identification');
  });

  it('answers 404 for a ValueSet the gateway does not have', async () => {
    const url = 'https://example.org/ValueSet/unknown';
    const res = await server.call<OperationOutcome>(undefined, 'GET', `/fhir/ValueSet/$expand?url=${url}`);
    expect(res.status).toBe(404);
    expect(res.body.issue?.[0]?.diagnostics).toBe(
      `Geen ValueSet met url ${url} / No ValueSet with url ${url}`,
    );
  });
});
