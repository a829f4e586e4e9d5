// The fast path reads no R4 StructureDefinitions: a process that only takes valid resources never holds them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Parameters, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../paths.js';
import { fhirDefinitionsLoaded, loadStructureSchema } from './structure.js';
import { checkFhir } from './validate.js';

const exchange = JSON.parse(
  readFileSync(path.join(PROJECT_ROOT, 'docs/examples/exchange-noah-to-gp.json'), 'utf8'),
) as Parameters;
const payload = exchange.parameter!.find((p) => p.name === 'payload')!.resource as Bundle;
const noah: Patient = {
  resourceType: 'Patient',
  identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910036' }],
  name: [{ family: 'Jansen', given: ['Noah'] }],
  birthDate: '2015-03-02',
};

// In this order: the first test needs a process (this file's) in which no full validation ran yet.
describe('the R4 definitions are read on the first full validation only', () => {
  it('takes valid resources and finds a missing required element without them', () => {
    loadStructureSchema();
    expect(checkFhir(noah, ['Patient']).issues).toEqual([]);
    expect(checkFhir(payload, ['Bundle'], { tier: 'payload' }).issues).toEqual([]);
    // Patient.link.type is required (min 1) in the base specification, not in the JSON schema (a primitive may
    // come as _type alone): found from the generated table.
    const linked = { ...noah, link: [{ other: { reference: 'Patient/1' } }] } as Patient;
    expect(checkFhir(linked, ['Patient']).issues).toEqual([
      expect.objectContaining({ code: 'required', expression: ['Patient.link[0].type'] }),
    ]);
    expect(fhirDefinitionsLoaded()).toBe(false);
  });

  it('reads them when the fast pass finds fault, and reports with the full validation', () => {
    const verdict = checkFhir({ ...noah, nickname: 'Noah' }, ['Patient']);
    expect(fhirDefinitionsLoaded()).toBe(true);
    expect(verdict.issues.map((i) => i.expression)).toContainEqual(['Patient.nickname']);
  });
});

describe('numbers as R4 has them', () => {
  const errors = (resource: unknown) =>
    checkFhir(resource, undefined, {}).issues.filter((i) => i.severity === 'error');

  it('refuses an integer that is a fraction, beyond 32 bits or infinite (1e999 would go out as null)', () => {
    for (const n of [1.5, 2147483648, 99999999999, JSON.parse('1e999') as number, -2147483649])
      expect(errors({ ...noah, multipleBirthInteger: n }).length, String(n)).toBeGreaterThan(0);
    for (const n of [0, 3, 2147483647])
      expect(errors({ ...noah, multipleBirthInteger: n }), String(n)).toEqual([]);
  });

  it('refuses a positiveInt of 0 and an infinite decimal', () => {
    const obs = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] },
    };
    expect(
      errors({ ...obs, valueQuantity: { value: JSON.parse('-1e999') as number } }).length,
    ).toBeGreaterThan(0);
    expect(errors({ ...obs, valueQuantity: { value: 140.5 } })).toEqual([]);
    const sampled = { origin: { value: 0 }, period: 10, dimensions: 0, data: '1 2' };
    expect(errors({ ...obs, valueSampledData: sampled }).length).toBeGreaterThan(0);
    expect(errors({ ...obs, valueSampledData: { ...sampled, dimensions: 1 } })).toEqual([]);
  });
});

describe('strings as R4 has them', () => {
  it('takes text with a no-break space, an ideographic space or a line separator (XML Schema whitespace is only four characters)', () => {
    for (const text of ['12\u00a0jaar', 'a\u3000b', 'regel\u2028twee', '\ufeffJansen'])
      expect(
        checkFhir({ ...noah, name: [{ family: text }] }, undefined, {}).issues.filter(
          (i) => i.severity === 'error',
        ),
        JSON.stringify(text),
      ).toEqual([]);
    expect(
      checkFhir({ ...noah, name: [{ family: '' }] }, undefined, {}).issues.some(
        (i) => i.severity === 'error',
      ),
    ).toBe(true);
  });
});

describe('string length', () => {
  it('refuses a string over 1 MB (R4’s limit) and takes one just under it', () => {
    const errors = (family: string) =>
      checkFhir({ ...noah, name: [{ family }] }, undefined, {}).issues.filter((i) => i.severity === 'error');
    expect(errors('x'.repeat(1_048_577)).length).toBeGreaterThan(0);
    expect(errors('x'.repeat(1_048_000))).toEqual([]);
  });
});
