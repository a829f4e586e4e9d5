// Validation and mapping throughput: a family CarePlan Bundle (fast pass and thorough), and the cjg-referral format.
import type { Bundle } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkFhir, loadFhirDefinitions } from '../src/mappings/validate.js';
import { accepted } from '../src/fhir/verdict.js';
import { loadStructureSchema } from '../src/mappings/structure.js';
import { FIXTURES_DIR } from '../src/paths.js';
import type { NativeReferral } from '../src/mappings/cjg-referral.js';
import { referralFromFhir, referralJsonToFhir, referralToFhir } from '../src/mappings/referral-format.js';
import { referralsFromCsv, referralsToCsv } from '../src/mappings/referral-csv.js';
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
      ...['parenting', 'finances', 'housing', 'education'].map((domain, i) => ({
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
  loadStructureSchema();
  const bundle = familyCarePlanBundle();
  const fast = await bench(
    'validate family CarePlan Bundle (9 resources): schema, profiles, rules',
    () => accepted(checkFhir(bundle, ['Bundle'])),
    { iterations: 10_000 },
  );
  console.log(`  target >= 2,000 Bundles/s on one core: ${fast.perSecond >= 2000 ? 'met' : 'NOT met'}`);
  await bench(
    'the same, thorough ($validate: also @medplum/core + invariants)',
    () => accepted(checkFhir(bundle, ['Bundle'], { thorough: true })),
    { iterations: 2000 },
  );
  const forms = readdirSync(path.join(FIXTURES_DIR, 'referrals'))
    .filter((f) => /^\d+-[\w-]+\.json$/.test(f) && !f.endsWith('.bundle.json'))
    .map((f) => JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'referrals', f), 'utf8')) as NativeReferral);
  let i = 0;
  await bench(
    'map a cjg-referral form to FHIR (checked, JSON)',
    () => referralJsonToFhir(forms[i++ % forms.length]),
    {
      iterations: 10_000,
    },
  );
  await bench(
    'map a referral Bundle back to the form',
    () => referralFromFhir(referralToFhir(forms[i++ % forms.length]!)),
    {
      iterations: 10_000,
    },
  );
  const csv = referralsToCsv(
    Array.from({ length: 2000 }, (_, n) => ({ ...forms[n % forms.length]!, referralId: `B-${n}` })),
  );
  const rows = csv.split('\r\n').length - 2;
  const t = performance.now();
  referralsFromCsv(csv).map(referralToFhir);
  const seconds = (performance.now() - t) / 1000;
  console.log(
    `${`read and map a CSV of 2,000 forms (${rows.toLocaleString('en')} rows)`.padEnd(58)} ${(2000 / seconds).toFixed(0).padStart(9)} forms/s (${(rows / seconds).toFixed(0)} rows/s)`,
  );
}
