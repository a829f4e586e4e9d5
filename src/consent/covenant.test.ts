import type { Contract } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from './catalogue.js';
import { covenantFrom, covenantScope, loadCovenants } from './covenant.js';
import type { DecisionRequest } from './types.js';

const at = new Date('2026-06-15T10:00:00+02:00');
const request = (over: Partial<DecisionRequest> = {}): DecisionRequest => ({
  requesterOrg: 'Organization/cjg-venlo',
  requesterRole: 'cjg',
  recipientOrg: 'Organization/school-de-wilgen',
  recipientRole: 'school',
  subjectBsn: '999911120',
  purpose: { code: 'CAREMGT' },
  ...over,
});
const region = loadCovenants('profiles/covenants');

describe('the regional covenant (profiles/covenants)', () => {
  it('reads the Noord-Limburg covenant: its signers, period and a term per recipient', () => {
    expect(region).toHaveLength(1);
    const [c] = region;
    expect(c!.parties).toContain('Organization/cjg-venlo');
    expect(c!.parties).not.toContain('Organization/veilig-thuis-noord-limburg');
    expect(c!.end).toBe('2028-12-31');
    expect(
      c!.terms.find((t) => t.recipient.reference === 'Organization/school-de-wilgen')?.categories,
    ).toEqual(['identification', 'contact', 'involvement', 'school']);
  });

  it('gives the categories the terms list for the recipient and purpose', () => {
    const scope = covenantScope(region, request(), at);
    expect(scope.outside).toBe(false);
    expect(scope.outside === false && [...scope.categories!].sort()).toEqual([
      'contact',
      'identification',
      'involvement',
      'school',
    ]);
  });

  it('puts outside: another purpose, a sender that did not sign, a moment after its end', () => {
    expect(covenantScope(region, request({ purpose: { code: 'TREAT' } }), at).outside).toBe(true);
    expect(covenantScope(region, request({ requesterOrg: 'Organization/rvdk-roermond' }), at).outside).toBe(
      true,
    );
    expect(covenantScope(region, request(), new Date('2029-01-01T00:00:00+01:00')).outside).toBe(true);
    expect(covenantScope(region, request(), new Date('2028-12-31T23:00:00+01:00')).outside).toBe(false);
  });

  it('is in force for whole days in Amsterdam: a date-only start and end in summer time as in winter time', () => {
    const [c] = region;
    const summer = [{ ...c!, start: '2026-07-01', end: '2026-07-01' }];
    // 00:30 and 23:30 on 1 July in Amsterdam (UTC+2); 00:30 on 2 July is after it.
    expect(covenantScope(summer, request(), new Date('2026-06-30T22:30:00Z')).outside).toBe(false);
    expect(covenantScope(summer, request(), new Date('2026-07-01T21:30:00Z')).outside).toBe(false);
    expect(covenantScope(summer, request(), new Date('2026-07-01T22:30:00Z')).outside).toBe(true);
    expect(covenantScope(summer, request(), new Date('2026-06-30T21:30:00Z')).outside).toBe(true);
    const winter = [{ ...c!, start: '2026-01-15', end: '2026-01-15' }];
    // 00:30 and 23:30 on 15 January in Amsterdam (UTC+1).
    expect(covenantScope(winter, request(), new Date('2026-01-14T23:30:00Z')).outside).toBe(false);
    expect(covenantScope(winter, request(), new Date('2026-01-15T22:30:00Z')).outside).toBe(false);
    expect(covenantScope(winter, request(), new Date('2026-01-15T23:30:00Z')).outside).toBe(true);
    expect(covenantScope(winter, request(), new Date('2026-01-14T22:30:00Z')).outside).toBe(true);
  });

  it('a pull is decided on its source: the sender is the organisation that discloses', () => {
    const pull = request({
      requesterOrg: 'Organization/school-de-wilgen',
      senderOrg: 'Organization/cjg-venlo',
    });
    expect(covenantScope(region, pull, at).outside).toBe(false);
  });

  it('a statutory basis overrides the covenant; a basis resting on regional arrangements does not', () => {
    const catalogue = loadCatalogue();
    const vt = request({
      recipientOrg: 'Organization/veilig-thuis-noord-limburg',
      recipientRole: 'veilig-thuis',
    });
    expect(covenantScope(region, vt, at, catalogue.legalBases.get('wmo-5.2.6-veilig-thuis')).outside).toBe(
      false,
    );
    expect(
      covenantScope(region, vt, at, catalogue.legalBases.get('jw-7.3.11-directly-involved')).outside,
    ).toBe(true);
    const overriding = [...catalogue.legalBases.values()]
      .filter((b) => b.overridesCovenant)
      .map((b) => b.code);
    expect(overriding.sort()).toEqual([
      'bw-1-240-rvdk',
      'conflict-of-duties',
      'jw-7.1.4.1-vir-report',
      'jw-7.3.11-gi-ots',
      'meldcode-step',
      'wmo-5.2.6-veilig-thuis',
    ]);
  });

  it('no covenant in the region narrows nothing', () => {
    expect(covenantScope([], request({ purpose: { code: 'TREAT' } }), at)).toEqual({
      outside: false,
      covenants: [],
    });
  });

  it('a covenant that cannot be read whole is an error naming what is missing, never a blanket rule', () => {
    const base: Contract = {
      resourceType: 'Contract',
      id: 'broken',
      signer: [{ type: { code: 'SIGN' }, party: { reference: 'Organization/cjg-venlo' }, signature: [] }],
    };
    expect(() => covenantFrom(base)).toThrow('covenant broken: no term says who may receive what');
    const noPurpose: Contract = {
      ...base,
      term: [
        {
          offer: { party: [{ reference: [{ reference: 'Organization/x' }], role: {} }] },
          asset: [{ type: [{ coding: [{ code: 'school' }] }] }],
        },
      ],
    };
    expect(() => covenantFrom(noPurpose)).toThrow('term[0] names no purpose');
    const unknown: Contract = {
      ...noPurpose,
      term: [
        {
          ...noPurpose.term![0]!,
          action: [{ type: {}, intent: { coding: [{ code: 'TREAT' }] }, status: {} }],
          asset: [{ type: [{ coding: [{ code: 'everything' }] }] }],
        },
      ],
    };
    expect(() => covenantFrom(unknown, new Set(loadCatalogue().categories.keys()))).toThrow(
      'unknown data categories: everything',
    );
  });
});
