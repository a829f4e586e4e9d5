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
