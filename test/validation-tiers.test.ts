// Validation tiers: payload content is R4 with the gateway's safety rules and the profiles it claims; what the gateway
// keeps gets its Ketenpoort profile by default; $validate and $exchange give the same verdict on the same resource.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { BSN_SYSTEM } from '../src/store/resources.js';
import { ENGINES, exchangeParameters, fhir, freshDatabase, sandboxToken, testSandbox } from './helpers.js';

const KP = 'https://ketenpoort.nl/fhir/StructureDefinition';
const SUBJECT = 'urn:uuid:1b0c2d3e-0000-4000-8000-000000000001';
const BSN = '999950186';
const subject: Patient = {
  resourceType: 'Patient',
  identifier: [{ system: BSN_SYSTEM, value: BSN }],
  birthDate: '2000-01-01',
};
const payload = (...resources: Resource[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { fullUrl: SUBJECT, resource: subject },
    ...resources.map((resource, i) => ({
      fullUrl: `urn:uuid:1b0c2d3e-0000-4000-8000-00000000010${i}`,
      resource,
    })),
  ],
});
const errorPaths = (o: OperationOutcome) =>
  (o.issue ?? []).filter((i) => i.severity === 'error').flatMap((i) => i.expression ?? []);

describe.each(ENGINES)('validation tiers on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let gp: string;
  const validate = (type: string, body: unknown) =>
    fhir<OperationOutcome>(sandbox.url, gp, 'POST', `/fhir/${type}/$validate`, body);

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    gp = await sandboxToken(sandbox, 'gp');
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('refuses, in $validate and $exchange alike and at the same paths, a type a payload does not carry and a reference to no entry', async () => {
    const bad = payload({ resourceType: 'Basic', code: { text: 'iets' } } as Resource, {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      subject: { reference: 'urn:uuid:1b0c2d3e-0000-4000-8000-00000000ffff' },
    });
    const checked = await validate('Bundle', bad);
    expect(checked.status).toBe(200);
    expect(errorPaths(checked.body).sort()).toEqual([
      'Bundle.entry[1].resource',
      'Bundle.entry[2].resource.subject.reference',
    ]);
    const exchanged = await fhir<OperationOutcome>(
      sandbox.url,
      gp,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/cjg-venlo', BSN, 'CAREMGT', bad),
      { 'accept-language': 'nl' },
    );
    expect(exchanged.status).toBe(422);
    expect(
      errorPaths(exchanged.body)
        .map((p) => p.replace(/^Parameters\.parameter\[\d+\]\.resource/, 'Bundle'))
        .sort(),
    ).toEqual(errorPaths(checked.body).sort());
    expect(exchanged.body.issue!.map((i) => i.diagnostics).join(' ')).toMatch(/een payload bevat geen Basic/);
  });

  it('accepts a payload Patient without a BSN (a newborn), while the person index still requires one', async () => {
    const newborn: Patient = { resourceType: 'Patient', birthDate: '2026-11-01', gender: 'female' };
    expect(errorPaths((await validate('Bundle', payload(newborn))).body)).toEqual([]);
    expect(errorPaths((await validate('Patient', newborn)).body)).toContain('Patient.identifier');
  });

  it('reports a claimed profile it does not know as information, and applies a claimed Ketenpoort profile in full', async () => {
    const condition = (profile: string) => ({
      resourceType: 'Condition',
      meta: { profile: [profile] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '197480006' }] },
      subject: { reference: 'Patient/x' },
    });
    const nlCore = await validate(
      'Condition',
      condition('http://nictiz.nl/fhir/StructureDefinition/nl-core-Problem'),
    );
    expect(errorPaths(nlCore.body)).toEqual([]);
    expect(
      nlCore.body.issue!.some((i) => i.severity === 'information' && /nl-core-Problem/.test(i.diagnostics!)),
    ).toBe(true);
    const ours = await validate('Condition', condition(`${KP}/life-domain-problem`));
    expect(errorPaths(ours.body)).toContain('Condition.code');
    // Without a claim the same Condition is ordinary R4 payload content: no Ketenpoort profile by default.
    const plain = { ...condition(''), meta: undefined };
    expect(errorPaths((await validate('Condition', plain)).body)).toEqual([]);
  });
});
