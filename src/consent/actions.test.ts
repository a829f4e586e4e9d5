import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { AGENCY_ROLE_SYSTEM } from './constants.js';
import { evaluateConsent } from './provisions.js';
import type { DecisionRequest } from './types.js';

const at = new Date('2026-06-15T10:00:00Z');
const exchange: DecisionRequest = {
  requesterOrg: 'Organization/sender',
  requesterRole: 'cjg',
  recipientOrg: 'Organization/recipient',
  recipientRole: 'gp',
  subjectBsn: '999911120',
  purpose: { code: 'CAREMGT' },
};

function consent(
  type: 'permit' | 'deny',
  actor: 'sender' | 'recipient' | 'none',
  actions: string[],
): Consent {
  const provision: ConsentProvision = {
    type,
    actor:
      actor === 'none'
        ? undefined
        : [
            {
              // The sender is named as the data's custodian, the recipient as information recipient.
              role: { coding: [{ code: actor === 'sender' ? 'CST' : 'IRCP' }] },
              reference: { reference: `Organization/${actor}` },
            },
          ],
    action: actions.length
      ? actions.map((code) => ({
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code }],
        }))
      : undefined,
  };
  return { resourceType: 'Consent', status: 'active', scope: {}, category: [], provision };
}

describe('action semantics: the sender discloses, the recipient collects, accesses and uses', () => {
  const cases: [
    string,
    'permit' | 'deny',
    'sender' | 'recipient' | 'none',
    string[],
    'permit' | 'deny' | undefined,
  ][] = [
    [
      'a deny of access for the recipient applies to an exchange to it',
      'deny',
      'recipient',
      ['access'],
      'deny',
    ],
    ['a deny of collect for the recipient applies', 'deny', 'recipient', ['collect'], 'deny'],
    ['a deny of use for the recipient applies', 'deny', 'recipient', ['use'], 'deny'],
    ['a deny of disclosure to the recipient applies', 'deny', 'recipient', ['disclose'], 'deny'],
    ['a deny of disclosure by the sender applies', 'deny', 'sender', ['disclose'], 'deny'],
    [
      'a deny of access by the sender does not apply: the sender does not access in an exchange',
      'deny',
      'sender',
      ['access'],
      undefined,
    ],
    ['a deny of correction never applies to an exchange', 'deny', 'recipient', ['correct'], undefined],
    ['a deny without actor of access applies (the recipient accesses)', 'deny', 'none', ['access'], 'deny'],
    ['a deny of the recipient without actions covers every act', 'deny', 'recipient', [], 'deny'],
    ['a permit of disclosure to the recipient is a basis', 'permit', 'recipient', ['disclose'], 'permit'],
    ['a permit of disclosure by the sender is a basis', 'permit', 'sender', ['disclose'], 'permit'],
    ['a permit of the recipient without actions is a basis', 'permit', 'recipient', [], 'permit'],
    [
      "a permit of the recipient's access alone lets nobody disclose",
      'permit',
      'recipient',
      ['access'],
      undefined,
    ],
    ["a permit of the sender's use is no basis", 'permit', 'sender', ['use'], undefined],
  ];
  for (const [name, type, actor, actions, expected] of cases) {
    it(name, () => {
      expect(evaluateConsent(consent(type, actor, actions), exchange, at)).toBe(expected);
    });
  }

  it('a pull: the source named as sender is matched by senderOrg, not by the requester', () => {
    const pull: DecisionRequest = {
      ...exchange,
      requesterOrg: 'Organization/recipient',
      senderOrg: 'Organization/sender',
    };
    expect(evaluateConsent(consent('deny', 'sender', ['disclose']), pull, at)).toBe('deny');
    expect(evaluateConsent(consent('deny', 'recipient', ['access']), pull, at)).toBe('deny');
  });

  it('a provision naming another organisation applies to neither party', () => {
    const other = consent('deny', 'none', ['access']);
    other.provision!.actor = [
      { role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/other' } },
    ];
    expect(evaluateConsent(other, exchange, at)).toBeUndefined();
  });

  it('an information recipient (IRCP) that is the sender gains nothing: it may receive, not pass the data on', () => {
    for (const type of ['permit', 'deny'] as const) {
      const named = consent(type, 'none', ['disclose']);
      named.provision!.actor = [
        { role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/sender' } },
      ];
      expect(evaluateConsent(named, exchange, at)).toBeUndefined();
      named.provision!.actor[0]!.role = { coding: [{ code: 'PRCP' }] };
      expect(evaluateConsent(named, exchange, at)).toBeUndefined();
    }
  });

  it("an actor named by agency role matches the sender's role", () => {
    const byRole = consent('deny', 'none', ['disclose']);
    byRole.provision!.actor = [
      {
        role: { coding: [{ code: 'CST' }] },
        reference: { identifier: { system: AGENCY_ROLE_SYSTEM, value: 'cjg' } },
      },
    ];
    expect(evaluateConsent(byRole, exchange, at)).toBe('deny');
  });

  it('a question about one act of the recipient is matched on that act only', () => {
    const access: DecisionRequest = { ...exchange, action: 'access' };
    expect(evaluateConsent(consent('permit', 'recipient', ['access']), access, at)).toBe('permit');
    expect(evaluateConsent(consent('permit', 'recipient', ['use']), access, at)).toBeUndefined();
  });
});
