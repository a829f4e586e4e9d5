// $municipal over HTTP: a municipality reads its own report; another municipality's report is refused.
import type { MeasureReport, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { operationServer } from '../../../test/operation-server.js';

describe('reports $municipal', () => {
  const server = operationServer();
  const report = <T>(query: string) => server.call<T>('municipality', 'GET', `/reports/$municipal?${query}`);

  it('gives the municipality its own report', async () => {
    const res = await report<MeasureReport>('period=2005/2007');
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('MeasureReport');
    expect(res.body.measure).toBe('https://ketenpoort.nl/fhir/Measure/municipal-report');
  });

  it("refuses another municipality's report with 403", async () => {
    const res = await report<OperationOutcome>('period=2023&municipality=0984');
    expect(res.status).toBe(403);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/reads only its own report/);
  });
});
