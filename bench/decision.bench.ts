// Decision speed: a family of five with twenty consents, decided in-process by the pure engine.
import type { Bundle, Consent, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { loadCatalogue } from '../src/consent/catalogue.js';
import { BSN_SYSTEM, PARENTAL_AUTHORITY_URL } from '../src/consent/constants.js';
import { decide, DEFAULT_OPTIONS } from '../src/consent/decide.js';
import type { DecisionFacts, DecisionRequest } from '../src/consent/types.js';
import { bench } from './lib.js';

const ORGS = ['huisartsen-de-linde', 'jeugdzorg-horizon', 'school-de-wilgen', 'gemeente-venlo'];
const PURPOSES = ['CAREMGT', 'TREAT'];

/** Three children (9, 13, 16) and two parents (clients themselves), twenty consents between them. */
export function familyOfFive(): DecisionFacts {
  const people: [string, string][] = [
    ['noah', '2017-03-14'],
    ['emma', '2013-05-02'],
    ['liam', '2010-01-20'],
    ['sanne', '1986-08-08'],
    ['mark', '1984-11-30'],
  ];
  const members: Patient[] = people.map(([id, birthDate], i) => ({
    resourceType: 'Patient',
    id,
    birthDate,
    identifier: [{ system: BSN_SYSTEM, value: `99991003${i}` }],
  }));
  const relatedPersons: RelatedPerson[] = ['noah', 'emma', 'liam'].flatMap((child) =>
    ['mother', 'father'].map((p) => ({
      resourceType: 'RelatedPerson' as const,
      id: `${p}-${child}`,
      patient: { reference: `Patient/${child}` },
      extension: [{ url: PARENTAL_AUTHORITY_URL, valueBoolean: true }],
    })),
  );
  const consents: Consent[] = [];
  for (let i = 0; i < 20; i++) {
    const who = people[i % 5]![0];
    const performers =
      who === 'sanne' || who === 'mark'
        ? [`Patient/${who}`]
        : who === 'noah'
          ? [`RelatedPerson/mother-${who}`, `RelatedPerson/father-${who}`]
          : [`Patient/${who}`, `RelatedPerson/mother-${who}`, `RelatedPerson/father-${who}`];
    consents.push({
      resourceType: 'Consent',
      id: `c${i}`,
      status: i % 7 === 6 ? 'inactive' : 'active',
      scope: { coding: [{ code: 'patient-privacy' }] },
      category: [{ coding: [{ code: '59284-0' }] }],
      patient: { reference: `Patient/${who}` },
      performer: performers.map((reference) => ({ reference })),
      dateTime: '2026-01-10T10:00:00+01:00',
      provision: {
        type: 'permit',
        period: { start: '2026-01-01', end: '2027-01-01' },
        actor: [
          {
            role: { coding: [{ code: 'IRCP' }] },
            reference: { reference: `Organization/${ORGS[i % ORGS.length]}` },
          },
        ],
        purpose: [{ code: PURPOSES[i % 2] }],
        provision: [{ type: 'deny', code: [{ coding: [{ code: 'addiction' }] }] }],
      },
    });
  }
  return {
    group: { resourceType: 'Group', id: 'family', type: 'person', actual: true },
    members,
    relatedPersons,
    consents,
  };
}

export function familyPayload(): Bundle {
  const cond = (id: string, who: string, domain: string) => ({
    resource: {
      resourceType: 'Condition' as const,
      id,
      subject: { reference: `Patient/${who}` },
      code: { coding: [{ system: 'https://ketenpoort.nl/fhir/CodeSystem/life-domain', code: domain }] },
    },
  });
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      cond('a', 'noah', 'parenting'),
      cond('b', 'emma', 'education'),
      cond('c', 'liam', 'justice'),
      cond('d', 'sanne', 'finances'),
      cond('e', 'mark', 'addiction'),
      cond('f', 'mark', 'work-income'),
      {
        resource: {
          resourceType: 'CarePlan',
          id: 'plan',
          status: 'active',
          intent: 'plan',
          subject: { reference: 'Group/family' },
        },
      },
      {
        resource: {
          resourceType: 'Goal',
          id: 'g1',
          lifecycleStatus: 'active',
          description: { text: 'Schulden stabiel' },
          subject: { reference: 'Patient/sanne' },
        },
      },
    ],
  };
}

export async function run(): Promise<void> {
  const catalogue = loadCatalogue();
  const facts = familyOfFive();
  const at = new Date('2026-06-15T10:00:00Z');
  const request: DecisionRequest = {
    requesterOrg: 'Organization/cjg-venlo',
    requesterRole: 'cjg',
    recipientOrg: 'Organization/huisartsen-de-linde',
    recipientRole: 'gp',
    subjectBsn: 'venlo-gezin-0001',
    subjectKind: 'family',
    purpose: { code: 'CAREMGT' },
  };
  const single = { ...request, subjectKind: 'person' as const, subjectBsn: '999910030' };
  const singleFacts = { ...facts, members: [facts.members![0]!], subject: facts.members![0] };
  await bench(
    'decide: one child (of a family of 5, 20 consents)',
    () => decide(single, singleFacts, catalogue, at, DEFAULT_OPTIONS),
    { iterations: 50_000 },
  ).then((r) =>
    console.log(
      `  target >= 20,000/s and p99 < 0.2 ms: ${r.perSecond >= 20_000 && r.p99Ms < 0.2 ? 'met' : 'NOT met'}`,
    ),
  );
  await bench(
    'decide: whole family of 5 (20 consents), request level',
    () => decide(request, facts, catalogue, at, DEFAULT_OPTIONS),
    { iterations: 50_000 },
  ).then((r) =>
    console.log(
      `  target >= 20,000/s and p99 < 0.2 ms: ${r.perSecond >= 20_000 && r.p99Ms < 0.2 ? 'met' : 'NOT met'}`,
    ),
  );
  const withPayload = { ...request, payload: familyPayload() };
  await bench(
    'decide + minimise: family of 5, 8-resource payload',
    () => decide(withPayload, facts, catalogue, at, DEFAULT_OPTIONS),
    { iterations: 20_000 },
  );
}
