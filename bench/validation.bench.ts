// Validation throughput: a family CarePlan Bundle through @medplum/core plus the gateway's own rules.
import type { Bundle } from '@medplum/fhirtypes';
import { loadFhirDefinitions, validateFhir } from '../src/mappings/validate.js';
import { bench } from './lib.js';

export function familyCarePlanBundle(): Bundle {
  const bsn = 'http://fhir.nl/fhir/NamingSystem/bsn';
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: 'urn:uuid:p1',
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: bsn, value: '999910036' }],
          birthDate: '2017-03-14',
        },
      },
      {
        fullUrl: 'urn:uuid:p2',
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: bsn, value: '999910048' }],
          birthDate: '2012-05-02',
        },
      },
      {
        fullUrl: 'urn:uuid:g',
        resource: {
          resourceType: 'Group',
          type: 'person',
          actual: true,
          member: [{ entity: { reference: 'urn:uuid:p1' } }, { entity: { reference: 'urn:uuid:p2' } }],
        },
      },
      ...['opvoeden', 'financien', 'huisvesting', 'school'].map((domain, i) => ({
        fullUrl: `urn:uuid:goal${i}`,
        resource: {
          resourceType: 'Goal' as const,
          lifecycleStatus: 'active' as const,
          category: [
            { coding: [{ system: 'https://ketenpoort.nl/fhir/CodeSystem/life-domain', code: domain }] },
          ],
          description: { text: `Doel ${domain}` },
          subject: { reference: 'urn:uuid:g' },
        },
      })),
      {
        fullUrl: 'urn:uuid:plan',
        resource: {
          resourceType: 'CarePlan',
          status: 'active',
          intent: 'plan',
          title: 'Gezinsplan',
          subject: { reference: 'urn:uuid:g' },
          goal: [0, 1, 2, 3].map((i) => ({ reference: `urn:uuid:goal${i}` })),
          activity: [
            {
              detail: {
                status: 'in-progress',
                description: 'Schuldhulpverlening',
                performer: [{ reference: 'Organization/gemeente-venlo' }],
              },
            },
          ],
        },
      },
    ],
  };
}

export async function run(): Promise<void> {
  loadFhirDefinitions();
  const bundle = familyCarePlanBundle();
  await bench('validate family CarePlan Bundle (9 resources)', () => validateFhir(bundle, ['Bundle']), {
    iterations: 3000,
  });
}
