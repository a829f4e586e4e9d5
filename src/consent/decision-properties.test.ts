// Properties of decide() over random facts and requests (fast-check): it fails closed and is monotone in consents.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Consent, ConsentProvision, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { loadCatalogue } from './catalogue.js';
import { BSN_SYSTEM, PARENTAL_AUTHORITY_URL } from './constants.js';
import { decide, DEFAULT_OPTIONS } from './decide.js';
import type { DecisionFacts, DecisionRequest } from './types.js';

const catalogue = loadCatalogue();
const at = new Date('2026-06-15T10:00:00Z');
const ORGS = [
  'Organization/huisartsen-de-linde',
  'Organization/school-de-wilgen',
  'Organization/jeugdzorg-horizon',
  'Organization/gi-jeugdbescherming-zuid',
];
const ROLES: Record<string, string> = {
  'Organization/huisartsen-de-linde': 'gp',
  'Organization/school-de-wilgen': 'school',
  'Organization/jeugdzorg-horizon': 'youth-care',
  'Organization/gi-jeugdbescherming-zuid': 'gi',
};
const PURPOSES = ['CAREMGT', 'TREAT', 'HRESCH', 'PUBHLTH'];
const PERFORMERS = [
  'Patient/child',
  'RelatedPerson/mother',
  'RelatedPerson/father',
  'RelatedPerson/stranger',
];
const STATUSES: Consent['status'][] = ['active', 'active', 'active', 'inactive', 'draft', 'rejected'];

const provisionArb = fc.letrec((tie) => ({
  node: fc.record(
    {
      type: fc.constantFrom<'permit' | 'deny'>('permit', 'deny'),
      actor: fc.option(
        fc
          .subarray(ORGS, { minLength: 1 })
          .map((xs) =>
            xs.map((reference) => ({ role: { coding: [{ code: 'IRCP' }] }, reference: { reference } })),
          ),
        { nil: undefined },
      ),
      purpose: fc.option(
        fc.subarray(PURPOSES, { minLength: 1 }).map((xs) => xs.map((code) => ({ code }))),
        { nil: undefined },
      ),
      period: fc.option(
        fc.constantFrom({ end: '2026-01-01' }, { start: '2026-01-01' }, { start: '2027-01-01' }),
        { nil: undefined },
      ),
      provision: fc.option(fc.array(tie('node') as fc.Arbitrary<ConsentProvision>, { maxLength: 2 }), {
        nil: undefined,
        depthSize: 'small',
      }),
    },
    { requiredKeys: ['type'] },
  ),
})).node as fc.Arbitrary<ConsentProvision>;

const consentArb = (patient: string) =>
  fc
    .record({
      status: fc.constantFrom(...STATUSES),
      performer: fc.subarray(PERFORMERS, { minLength: 1 }),
      provision: provisionArb,
      dateTime: fc.constantFrom('2020-01-01T10:00:00Z', '2025-01-01T10:00:00Z', '2026-06-01T10:00:00Z'),
    })
    .map(({ status, performer, provision, dateTime }): Consent => ({
      resourceType: 'Consent',
      status,
      scope: { coding: [{ code: 'patient-privacy' }] },
      category: [{ coding: [{ code: '59284-0' }] }],
      patient: { reference: patient },
      performer: performer.map((reference) => ({ reference })),
      dateTime,
      provision,
    }));

const factsArb = fc
  .record({
    birthDate: fc.constantFrom(
      '2018-01-01',
      '2014-06-15',
      '2012-01-01',
      '2010-06-15',
      '2009-01-01',
      '1990-01-01',
    ),
    motherGezag: fc.boolean(),
    fatherGezag: fc.boolean(),
    consents: fc.array(consentArb('Patient/child'), { maxLength: 5 }),
  })
  .map(({ birthDate, motherGezag, fatherGezag, consents }): DecisionFacts => {
    const parent = (id: string, gezag: boolean, patient = 'Patient/child'): RelatedPerson => ({
      resourceType: 'RelatedPerson',
      id,
      patient: { reference: patient },
      extension: [{ url: PARENTAL_AUTHORITY_URL, valueBoolean: gezag }],
    });
    const subject: Patient = {
      resourceType: 'Patient',
      id: 'child',
      birthDate,
      identifier: [{ system: BSN_SYSTEM, value: '999910036' }],
    };
    return {
      subject,
      members: [subject],
      relatedPersons: [
        parent('mother', motherGezag),
        parent('father', fatherGezag),
        parent('stranger', true, 'Patient/other'),
      ],
      consents: consents.map((c, i) => ({ ...c, id: `c${i}` })),
    };
  });

const requestArb = fc
  .record({ recipient: fc.constantFrom(...ORGS), purpose: fc.constantFrom(...PURPOSES) })
  .map(({ recipient, purpose }): DecisionRequest => ({
    requesterOrg: 'Organization/cjg-venlo',
    requesterRole: 'cjg',
    recipientOrg: recipient,
    recipientRole: ROLES[recipient],
    subjectBsn: '999910036',
    purpose: { code: purpose },
  }));

const run = (req: DecisionRequest, facts: DecisionFacts) =>
  decide(req, facts, catalogue, at, DEFAULT_OPTIONS).decision;

describe('decide() properties', () => {
  it('denies every request that no consent names: random recipients and purposes without a matching permit', () => {
    fc.assert(
      fc.property(factsArb, requestArb, (facts, req) => {
        // Keep only consents that cannot match this request: another recipient and another purpose at every level.
        const other = ORGS.find((o) => o !== req.recipientOrg)!;
        const otherPurpose = PURPOSES.find((p) => p !== req.purpose.code)!;
        const strip = (p: ConsentProvision): ConsentProvision => ({
          ...p,
          type: 'permit',
          actor: [{ role: { coding: [{ code: 'IRCP' }] }, reference: { reference: other } }],
          purpose: [{ code: otherPurpose }],
          provision: p.provision?.map(strip),
        });
        const unrelated = {
          ...facts,
          consents: facts.consents.map((c) => ({ ...c, provision: c.provision && strip(c.provision) })),
        };
        expect(run(req, unrelated)).toBe('deny');
      }),
      { numRuns: 400 },
    );
  });

  // Withdrawing an objection may of course allow what it blocked; withdrawing a grant never may.
  it('never turns a deny into a permit by removing a consent that refuses nothing', () => {
    const refusesSomething = (p: ConsentProvision | undefined): boolean =>
      !!p && (p.type === 'deny' || (p.provision ?? []).some(refusesSomething));
    fc.assert(
      fc.property(factsArb, requestArb, fc.nat(), (facts, req, pick) => {
        const grants = facts.consents
          .map((c, i) => ({ c, i }))
          .filter(({ c }) => !refusesSomething(c.provision));
        fc.pre(grants.length > 0);
        if (run(req, facts) !== 'deny') return;
        const i = grants[pick % grants.length]!.i;
        const fewer = { ...facts, consents: facts.consents.filter((_, j) => j !== i) };
        expect(run(req, fewer)).toBe('deny');
      }),
      { numRuns: 600 },
    );
  });

  it('never turns a deny into a permit by adding a refusal', () => {
    fc.assert(
      fc.property(
        factsArb,
        requestArb,
        fc.constantFrom('Patient/child', 'RelatedPerson/mother', 'RelatedPerson/father'),
        (facts, req, performer) => {
          if (run(req, facts) !== 'deny') return;
          const refusal: Consent = {
            ...facts.consents[0],
            resourceType: 'Consent',
            id: 'refusal',
            status: 'active',
            scope: { coding: [{ code: 'patient-privacy' }] },
            category: [],
            patient: { reference: 'Patient/child' },
            performer: [{ reference: performer }],
            provision: { type: 'deny' },
          };
          expect(run(req, { ...facts, consents: [...facts.consents, refusal] })).toBe('deny');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is not changed by adding a consent about someone else', () => {
    fc.assert(
      fc.property(factsArb, requestArb, consentArb('Patient/other'), (facts, req, unrelated) => {
        const more = { ...facts, consents: [...facts.consents, { ...unrelated, id: 'unrelated' }] };
        expect(run(req, more)).toBe(run(req, facts));
      }),
      { numRuns: 400 },
    );
  });

  it('never permits without naming the consents it rests on', () => {
    fc.assert(
      fc.property(factsArb, requestArb, (facts, req) => {
        const d = decide(req, facts, catalogue, at, DEFAULT_OPTIONS);
        if (d.decision === 'permit') {
          expect(d.consents.length).toBeGreaterThan(0);
          for (const ref of d.consents)
            expect(facts.consents.find((c) => `Consent/${c.id}` === ref)?.status).toBe('active');
        }
      }),
      { numRuns: 400 },
    );
  });
});
