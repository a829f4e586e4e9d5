// $security-label over HTTP: a Bundle comes back labelled entry by entry; a body that is no Bundle is a 400.
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { carePlanPayload, NOAH } from '../../../test/helpers.js';
import { operationServer } from '../../../test/operation-server.js';

describe('$security-label', () => {
  const server = operationServer();
  const label = <T>(body: unknown) => server.call<T>('cjg', 'POST', '/fhir/Bundle/$security-label', body);

  it('labels each entry of a care plan Bundle with its data categories', async () => {
    const bundle = carePlanPayload(NOAH);
    const res = await label<Parameters>(bundle);
    expect(res.status).toBe(200);
    const entries = res.body.parameter!.filter((p) => p.name === 'entry');
    expect(entries.length).toBe(bundle.entry!.length);
    const categories = entries.flatMap((e) => e.part!.filter((p) => p.name === 'category'));
    expect(categories.map((c) => c.valueCoding?.code)).toContain('care-plan');
  });

  it('refuses a body that is neither a Bundle nor Parameters with one', async () => {
    const res = await label<OperationOutcome>({ resourceType: 'Patient' });
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/Send a Bundle/);
  });
});
