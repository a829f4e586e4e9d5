// The decision table: every case in decision-table/cases.json decided by the pure engine and checked.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Bundle, Consent, ConsentProvision, Patient, RelatedPerson, Resource } from '@medplum/fhirtypes';
import { loadCatalogue } from './catalogue.js';
import { AGENCY_ROLE_SYSTEM, BSN_SYSTEM, PARENTAL_AUTHORITY_URL } from './constants.js';
import { decide, DEFAULT_OPTIONS } from './decide.js';
import { renderReason } from './explain.js';
import type { DecisionFacts, DecisionRequest } from './types.js';

interface NestedSpec {
  type: 'permit' | 'deny';
  actor?: string[];
  purpose?: string[];
  code?: string[];
  nested?: NestedSpec[];
}
interface ConsentSpec {
  performers: string[];
  actors: string[];
  purposes: string[];
  roleActors?: string[];
  uraActors?: string[];
  actions?: string[];
  codes?: string[];
  labels?: string[];
  classes?: string[];
  data?: string[];
  dataPeriod?: { start?: string; end?: string };
  period?: { start?: string; end?: string };
  type?: 'permit' | 'deny';
  status?: Consent['status'];
  scope?: string;
  patient?: string;
  dateTime?: string;
  withdrawnAt?: string;
  nested?: NestedSpec[];
}
interface Case {
  name: string;
  birthDate?: string | null;
  unknownSubject?: boolean;
  family?: { id: string; birthDate: string; bsn: string }[];
  parents?: { id: string; gezag: boolean; relation?: string; of?: string }[];
  consents?: ConsentSpec[];
  requesterRole?: string;
  policy?: 'keep-until-withdrawn' | 'require-renewal';
  request: {
    recipient: string;
    purpose: string;
    legalBasis?: string;
    justification?: string;
    criteria?: Record<string, string | boolean>;
    categories?: string[];
  };
  payload?: (Resource & { subjectBsn?: string })[];
  delivered?: string[];
  removed?: string[];
  labelsOut?: string[];
  expect: {
    decision: 'permit' | 'deny';
    reasons: string[];
    basis?: string;
    obligations?: string[];
    noObligations?: boolean;
    pseudonymised?: boolean;
    masked?: string[];
    disclosed?: string[];
    redacted?: string[];
  };
}

const table = JSON.parse(readFileSync(new URL('./decision-table/cases.json', import.meta.url), 'utf8')) as {
  at: string;
  cases: Case[];
};
const at = new Date(table.at);
const catalogue = loadCatalogue();

const ORGS: Record<string, { ref: string; role: string; ura: string }> = {
  cjg: { ref: 'Organization/cjg-venlo', role: 'cjg', ura: '90000101' },
  yc: { ref: 'Organization/jeugdzorg-horizon', role: 'youth-care', ura: '90000102' },
  gi: { ref: 'Organization/gi-jeugdbescherming-zuid', role: 'gi', ura: '90000103' },
  municipality: { ref: 'Organization/gemeente-venlo', role: 'municipality', ura: '90000104' },
  vt: { ref: 'Organization/veilig-thuis-noord-limburg', role: 'veilig-thuis', ura: '90000105' },
  rvdk: { ref: 'Organization/rvdk-roermond', role: 'rvdk', ura: '90000106' },
  gp: { ref: 'Organization/huisartsen-de-linde', role: 'gp', ura: '90000107' },
  school: { ref: 'Organization/school-de-wilgen', role: 'school', ura: '90000108' },
  research: { ref: 'Organization/onderzoek-jeugd', role: 'research', ura: '90000109' },
  vir: { ref: 'Organization/verwijsindex', role: 'verwijsindex', ura: '90000112' },
};
const org = (key: string) => {
  const o = ORGS[key];
  if (!o) throw new Error(`unknown organisation key ${key}`);
  return o;
};
const PERSON_REFS = new Set(['child', 'sibling', 'adult']);
const performerRef = (p: string) =>
  p.includes('/') ? p : PERSON_REFS.has(p) ? `Patient/${p}` : `RelatedPerson/${p}`;

function nested(spec: NestedSpec): ConsentProvision {
  return {
    type: spec.type,
    actor: spec.actor?.map((k) => ({
      role: { coding: [{ code: 'IRCP' }] },
      reference: { reference: org(k).ref },
    })),
    purpose: spec.purpose?.map((code) => ({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
      code,
    })),
    code: spec.code?.map((code) => ({
      coding: [{ system: 'https://ketenpoort.nl/fhir/CodeSystem/data-category', code }],
    })),
    provision: spec.nested?.map(nested),
  };
}

function consent(spec: ConsentSpec, i: number): Consent {
  const actors = [
    ...spec.actors.map((k) => ({ reference: { reference: org(k).ref } })),
    ...(spec.roleActors ?? []).map((role) => ({
      reference: { identifier: { system: AGENCY_ROLE_SYSTEM, value: role } },
    })),
    ...(spec.uraActors ?? []).map((value) => ({
      reference: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value } },
    })),
  ].map((a) => ({
    role: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
    },
    ...a,
  }));
  return {
    resourceType: 'Consent',
    id: `c${i}`,
    status: spec.status ?? 'active',
    scope: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/consentscope',
          code: spec.scope ?? 'patient-privacy',
        },
      ],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: spec.patient ?? 'Patient/child' },
    dateTime: spec.dateTime ?? '2026-01-10T10:00:00+01:00',
    performer: spec.performers.map((p) => ({ reference: performerRef(p) })),
    extension: spec.withdrawnAt
      ? [
          {
            url: 'https://ketenpoort.nl/fhir/StructureDefinition/consent-withdrawn-at',
            valueDateTime: spec.withdrawnAt,
          },
        ]
      : undefined,
    provision: {
      type: spec.type ?? 'permit',
      period: spec.period,
      actor: actors.length ? actors : undefined,
      purpose: spec.purposes.length
        ? spec.purposes.map((code) => ({
            system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
            code,
          }))
        : undefined,
      action: spec.actions?.map((code) => ({
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code }],
      })),
      code: spec.codes?.map((code) => ({
        coding: [{ system: 'https://ketenpoort.nl/fhir/CodeSystem/data-category', code }],
      })),
      securityLabel: spec.labels?.map((code) => ({
        system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
        code,
      })),
      class: spec.classes?.map((code) => ({ system: 'http://hl7.org/fhir/resource-types', code })),
      data: spec.data?.map((reference) => ({ meaning: 'instance', reference: { reference } })),
      dataPeriod: spec.dataPeriod,
      provision: spec.nested?.map(nested),
    },
  };
}

export function buildCase(c: Case): { request: DecisionRequest; facts: DecisionFacts } {
  const people =
    c.family ??
    (c.unknownSubject ? [] : [{ id: 'child', birthDate: c.birthDate ?? undefined, bsn: '999910036' }]);
  const members: Patient[] = people.map((p) => ({
    resourceType: 'Patient',
    id: p.id,
    birthDate: p.birthDate ?? undefined,
    identifier: [{ system: BSN_SYSTEM, value: p.bsn }],
  }));
  const relatedPersons: RelatedPerson[] = [
    ...(c.parents ?? []).map((p) => ({
      resourceType: 'RelatedPerson' as const,
      id: p.id,
      patient: { reference: `Patient/${p.of ?? 'child'}` },
      extension: [{ url: PARENTAL_AUTHORITY_URL, valueBoolean: p.gezag }],
      relationship: p.relation
        ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: p.relation }] }]
        : undefined,
    })),
    {
      resourceType: 'RelatedPerson',
      id: 'stranger',
      patient: { reference: 'Patient/other' },
      extension: [{ url: PARENTAL_AUTHORITY_URL, valueBoolean: true }],
    },
  ];
  const recipient = org(c.request.recipient);
  const payload: Bundle | undefined = c.payload
    ? {
        resourceType: 'Bundle',
        type: 'collection',
        entry: c.payload.map(({ subjectBsn, ...r }) => ({
          resource: (subjectBsn
            ? { ...r, subject: { identifier: { system: BSN_SYSTEM, value: subjectBsn } } }
            : r) as Resource,
        })),
      }
    : undefined;
  const request: DecisionRequest = {
    requesterOrg: 'Organization/cjg-venlo',
    requesterRole: c.requesterRole ?? 'cjg',
    recipientOrg: recipient.ref,
    recipientRole: recipient.role,
    recipientIdentifiers: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: recipient.ura }],
    subjectBsn: c.family ? 'venlo-gezin-0001' : '999910036',
    subjectKind: c.family ? 'family' : 'person',
    purpose: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: c.request.purpose },
    legalBasis: c.request.legalBasis
      ? { system: 'https://ketenpoort.nl/fhir/CodeSystem/legal-basis', code: c.request.legalBasis }
      : undefined,
    justification: c.request.justification,
    criteria: c.request.criteria,
    categories: c.request.categories,
    payload,
  };
  const facts: DecisionFacts = {
    subject: c.family ? undefined : members[0],
    group: c.family ? { resourceType: 'Group', id: 'family', type: 'person', actual: true } : undefined,
    members,
    relatedPersons,
    consents: (c.consents ?? []).map(consent),
  };
  return { request, facts };
}

const refOf = (r: Resource) => `${r.resourceType}/${r.id}`;

describe('decision table', () => {
  it('has at least 80 cases, each with a unique name', () => {
    expect(table.cases.length).toBeGreaterThanOrEqual(80);
    expect(new Set(table.cases.map((c) => c.name)).size).toBe(table.cases.length);
  });

  it.each(table.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { request, facts } = buildCase(c);
    const d = decide(request, facts, catalogue, at, {
      ...DEFAULT_OPTIONS,
      ageTransitionPolicy: c.policy ?? 'keep-until-withdrawn',
    });
    const codes = [...new Set(d.reasons.map((r) => r.code))].sort();
    expect({ decision: d.decision, reasons: codes }).toEqual({
      decision: c.expect.decision,
      reasons: [...c.expect.reasons].sort(),
    });
    if (c.expect.basis) expect(d.basis).toBe(c.expect.basis);
    const obligations = d.obligations.map((o) => o.code);
    for (const o of c.expect.obligations ?? []) expect(obligations).toContain(o);
    if (c.expect.noObligations) expect(obligations).toEqual([]);
    // Pseudonymised resources carry pseudonyms as ids: there only the resource types are compared.
    const deliveredAs = (ref: string) => (c.expect.pseudonymised ? ref.split('/')[0] : ref);
    if (c.delivered)
      expect(d.delivered?.entry?.map((e) => deliveredAs(refOf(e.resource!))).sort()).toEqual(
        c.delivered.map(deliveredAs).sort(),
      );
    if (c.removed)
      expect(
        d.obligations
          .filter((o) => o.code === 'REDACT')
          .map((o) => o.removed)
          .sort(),
      ).toEqual([...c.removed].sort());
    if (c.expect.pseudonymised) {
      const text = JSON.stringify(d.delivered);
      expect(text).not.toContain('999910036');
      expect(text).not.toContain('Jansen');
    }
    for (const element of c.expect.masked ?? []) {
      const patient = d.delivered?.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as
        Record<string, unknown> | undefined;
      expect(patient?.[element]).toBeUndefined();
    }
    for (const label of c.labelsOut ?? []) {
      for (const e of d.delivered?.entry ?? [])
        expect(e.resource?.meta?.security?.map((l) => l.code)).toContain(label);
    }
    if (c.expect.disclosed) expect(d.disclosed).toEqual(c.expect.disclosed);
    if (c.expect.redacted) expect(d.redacted).toEqual(c.expect.redacted);
    // Every reason renders as a whole sentence in both languages, for both audiences.
    for (const r of d.reasons) {
      for (const lang of ['en', 'nl'] as const) {
        for (const audience of ['full', 'public'] as const)
          expect(renderReason(r, catalogue, lang, audience)).not.toMatch(/\{\w+\}/);
      }
    }
    if (d.decision === 'permit' && request.payload)
      expect(d.delivered?.meta?.security?.some((l) => l.code === 'R')).toBe(true);
  });

  it('explains a missing parental consent in words a privacy officer understands, in Dutch and English', () => {
    const c = table.cases.find((x) => x.name === 'under 12: only one of two gezag holders consents')!;
    const { request, facts } = buildCase(c);
    const reason = decide(request, facts, catalogue, at).reasons[0]!;
    expect(renderReason(reason, catalogue, 'en', 'full')).toBe(
      'Consent of the father (gezag) is missing; the child is 9.',
    );
    expect(renderReason(reason, catalogue, 'nl', 'full')).toBe(
      'Toestemming van de vader (gezag) ontbreekt; het kind is 9.',
    );
    expect(renderReason(reason, catalogue, 'en', 'public')).toBe(
      'No consent covers this recipient and purpose.',
    );
  });

  it('replays a decision as of an earlier moment', () => {
    const c = table.cases.find((x) => x.name === 'provision period ended yesterday')!;
    const { request, facts } = buildCase(c);
    expect(decide(request, facts, catalogue, at).decision).toBe('deny');
    expect(decide(request, facts, catalogue, new Date('2026-03-01T12:00:00Z')).decision).toBe('permit');
  });
});
