// Classification reads a sensitive code wherever it stands: contained resources, extensions, tags, unread elements.
import { describe, expect, it } from 'vitest';
import type { CarePlan, Resource } from '@medplum/fhirtypes';
import { classify } from './classify.js';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const ATC = 'http://www.whocc.no/atc';
const plan = (extra: Partial<CarePlan>): Resource =>
  ({
    resourceType: 'CarePlan',
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/p' },
    ...extra,
  }) as CarePlan;

describe('classify', () => {
  it('finds a sensitive diagnosis in a contained Condition', () => {
    const c = classify(
      plan({
        contained: [
          {
            resourceType: 'Condition',
            id: 'c',
            subject: { reference: 'Patient/p' },
            code: { coding: [{ system: ICD10, code: 'F32' }] },
          },
        ],
      }),
    );
    expect(c.sensitive).toContain('mental-health');
  });

  it('finds sensitive codes in an extension, an activity outcome, a product and a tag', () => {
    expect(
      classify(
        plan({
          extension: [
            {
              url: 'https://example.org/x',
              valueCodeableConcept: { coding: [{ system: ICD10, code: 'F32' }] },
            },
          ],
        }),
      ).sensitive,
    ).toContain('mental-health');
    expect(
      classify(
        plan({ activity: [{ outcomeCodeableConcept: [{ coding: [{ system: ICD10, code: 'F10' }] }] }] }),
      ).sensitive,
    ).toContain('addiction');
    expect(
      classify(
        plan({
          activity: [
            {
              detail: {
                status: 'in-progress',
                productCodeableConcept: { coding: [{ system: ATC, code: 'N07BB01' }] },
              },
            },
          ],
        }),
      ).sensitive,
    ).toContain('addiction');
    expect(classify(plan({ meta: { tag: [{ system: ICD10, code: 'F32' }] } })).sensitive).toContain(
      'mental-health',
    );
  });

  it('adds nothing for a plan that holds no sensitive code', () => {
    expect(classify(plan({})).sensitive).toEqual([]);
  });
});
