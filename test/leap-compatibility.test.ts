// LEAP drop-in: every scenario of LEAP's own tests (sdhealthconnect/leap-cds), written in our words and data, on both
// engines, with the decision LEAP gives — or the deliberate difference docs/leap-compatibility.md explains.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { BSN_SYSTEM } from '../src/store/resources.js';
import { ENGINES, fhir, freshDatabase, sandboxToken, testSandbox } from './helpers.js';
import {
  accessAndCorrect,
  ACT_CODE,
  CONFIDENTIALITY,
  consentOf,
  contentOf,
  DR_VISSER,
  GP,
  inForce,
  leapSample,
  newPerson,
  postJson,
  purpose,
  REDACT,
  register,
  RESOURCE_TYPES,
  toDrVisser,
  toGp,
  YOUTH_CARE,
  type Person,
} from './leap/world.js';

interface Card {
  summary: string;
  detail: string;
  indicator: string;
  source: { label: string; url: string };
  extension: {
    decision: string;
    obligations: { id: { system: string; code: string }; parameters?: { codes?: unknown[] } }[];
    content?: Bundle;
    basedOn?: string;
  };
}

/** LEAP's response schema, as its published schema describes it: written here in our words. */
const responseShape = new Ajv().compile({
  type: 'object',
  required: ['cards'],
  properties: {
    cards: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['summary', 'detail', 'indicator', 'source', 'extension'],
        properties: {
          summary: { enum: ['CONSENT_PERMIT', 'CONSENT_DENY', 'NO_CONSENT'] },
          detail: { type: 'string' },
          indicator: { enum: ['info', 'warning', 'critical'] },
          source: { type: 'object', required: ['label', 'url'] },
          extension: {
            type: 'object',
            required: ['decision'],
            properties: {
              decision: { enum: ['CONSENT_PERMIT', 'CONSENT_DENY', 'NO_CONSENT'] },
              obligations: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id'],
                  properties: { id: { type: 'object', required: ['system', 'code'] } },
                },
              },
            },
          },
        },
      },
    },
  },
});

describe.each(ENGINES)('LEAP scenarios on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
  }, 60_000);
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  const ask = (body: unknown, token = cjg) =>
    postJson<{ cards: Card[] } & Record<string, unknown>>(
      sandbox.url,
      '/cds-services/patient-consent-consult',
      body,
      token,
    );

  /** Asks LEAP's sample question, changed as the scenario says, and returns the one card. */
  async function decide(person: Person, context: Record<string, unknown> = {}): Promise<Card> {
    const body = leapSample(person);
    const res = await ask({ ...body, context: { ...body.context, ...context } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(responseShape(res.body), JSON.stringify(responseShape.errors)).toBe(true);
    return res.body.cards[0]!;
  }

  const given = async (
    provision: Parameters<typeof consentOf>[1],
    extra: Parameters<typeof consentOf>[2] = {},
  ) => {
    const person = await newPerson(sandbox.url, cjg);
    const id = await register(sandbox.url, cjg, consentOf(person, provision, extra));
    return { person, basedOn: `${sandbox.url}/fhir/Consent/${id}` };
  };
  /** LEAP's opt-in: permit, except a nested deny of access and correction for the GP. */
  const optIn = () =>
    given({
      type: 'permit',
      period: inForce,
      provision: [{ type: 'deny', actor: [toGp], action: accessAndCorrect }],
    });

  it("answers LEAP's own sample request (identifiers replaced) with 200 and LEAP's card: an opt-in permits another recipient", async () => {
    const { person, basedOn } = await optIn();
    const card = await decide(person);
    expect(card).toMatchObject({
      summary: 'CONSENT_PERMIT',
      indicator: 'info',
      source: { label: 'Ketenpoort', url: sandbox.url },
      extension: { decision: 'CONSENT_PERMIT', obligations: [], basedOn },
    });
  });

  it("answers the sample of LEAP's README (identifiers replaced): purposes as a list and a class asked for", async () => {
    const { person, basedOn } = await optIn();
    const card = await decide(person, {
      purposeOfUse: ['TREAT'],
      class: [{ system: RESOURCE_TYPES, code: 'MedicationStatement' }],
    });
    expect(card.extension).toEqual({ decision: 'CONSENT_PERMIT', obligations: [], basedOn });
  });

  it('denies the organisation an opt-in singles out, and names the consent', async () => {
    const { person, basedOn } = await optIn();
    const card = await decide(person, { actor: [GP] });
    expect(card).toMatchObject({ summary: 'CONSENT_DENY', indicator: 'critical' });
    expect(card.extension).toEqual({ decision: 'CONSENT_DENY', obligations: [], basedOn });
    // A practitioner of that organisation, with the organisation among the actor's identifiers (as LEAP's actor list
    // is meant): the directory resolves the organisation, and its refusal applies.
    expect((await decide(person, { actor: [DR_VISSER, GP] })).extension.decision).toBe('CONSENT_DENY');
  });

  it('denies when the organisation is named by one of two actor identifiers', async () => {
    const { person } = await optIn();
    const card = await decide(person, {
      actor: [GP, { system: 'urn:ietf:rfc:3986', value: 'urn:oid:2.16.528.1.0' }],
    });
    expect(card.extension.decision).toBe('CONSENT_DENY');
  });

  it('denies under an opt-out whoever asks', async () => {
    const { person, basedOn } = await given({
      type: 'deny',
      period: inForce,
      provision: [{ type: 'deny', actor: [toGp], action: accessAndCorrect }],
    });
    const card = await decide(person);
    expect(card.extension).toMatchObject({ decision: 'CONSENT_DENY', obligations: [], basedOn });
  });

  it('finds no consent when it is inactive, expired or not yet valid', async () => {
    const nested = [{ type: 'deny' as const, actor: [toGp], action: accessAndCorrect }];
    const cases = [
      await given({ type: 'permit', period: inForce, provision: nested }, { status: 'inactive' }),
      await given({ type: 'permit', period: { start: '2015-11-01', end: '2016-01-01' }, provision: nested }),
      await given({
        type: 'permit',
        period: { start: new Date(Date.now() + 48 * 3600_000).toISOString() },
        provision: nested,
      }),
    ];
    for (const { person } of cases) {
      const card = await decide(person);
      expect(card).toMatchObject({ summary: 'NO_CONSENT', indicator: 'warning' });
      expect(card.extension).toEqual({ decision: 'NO_CONSENT', obligations: [] });
    }
  });

  it('finds no consent for a research consent: the gateway keeps privacy consents only, so it refuses to register one (deliberate difference)', async () => {
    const person = await newPerson(sandbox.url, cjg);
    const research = consentOf(
      person,
      { type: 'permit', period: inForce },
      {
        scope: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }],
        },
      },
    );
    const res = await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', research);
    expect(res.status).toBe(422);
    expect((await decide(person)).extension.decision).toBe('NO_CONSENT');
  });

  it('lets category pick consents: a question without category, or naming the consent scope, finds the opt-in; another category does not', async () => {
    const { person } = await optIn();
    const body = leapSample(person);
    const { category: _omit, ...withoutCategory } = body.context;
    const res = await ask({ ...body, context: withoutCategory });
    expect(res.body.cards[0]!.extension.decision).toBe('CONSENT_PERMIT');
    const research = await decide(person, {
      category: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }],
    });
    expect(research.extension.decision).toBe('NO_CONSENT');
  });

  it('reads the consent scope from category as R5 does (consentscope in category, alongside the R4 scope)', async () => {
    const { person } = await given(
      { type: 'permit', period: inForce },
      {
        category: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' },
            ],
          },
        ],
      },
    );
    expect((await decide(person)).extension.decision).toBe('CONSENT_PERMIT');
  });

  it('honours a purpose in the root provision: another purpose finds no consent, a listed one permits', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      purpose: [purpose('TREAT'), purpose('ETREAT')],
    });
    expect((await decide(person, { purposeOfUse: 'HMARKT' })).extension.decision).toBe('NO_CONSENT');
    expect((await decide(person, { purposeOfUse: 'ETREAT' })).extension.decision).toBe('CONSENT_PERMIT');
  });

  it('permits several purposes only when each is permitted (deliberate difference: LEAP permits when any is)', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      purpose: [purpose('TREAT'), purpose('ETREAT')],
    });
    expect((await decide(person, { purposeOfUse: ['ETREAT', 'HMARKT'] })).extension.decision).toBe(
      'NO_CONSENT',
    );
    expect((await decide(person, { purposeOfUse: ['ETREAT', 'TREAT'] })).extension.decision).toBe(
      'CONSENT_PERMIT',
    );
    // The audit record keeps every purpose asked for.
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    const events = await fhir<Bundle>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/AuditEvent?patient:identifier=${BSN_SYSTEM}|${person.bsn}&_count=100`,
    );
    const vias = (events.body.entry ?? []).flatMap((e) =>
      ((e.resource as AuditEvent).entity ?? []).flatMap((x) =>
        (x.detail ?? []).filter((d) => d.type === 'via').map((d) => d.valueString),
      ),
    );
    expect(vias).toContain('cds-hooks; purposes ETREAT, HMARKT');
  });

  it('denies a purpose a nested provision refuses', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [{ type: 'deny', purpose: [purpose('HMARKT')] }],
    });
    expect((await decide(person, { purposeOfUse: 'HMARKT', actor: [GP] })).extension.decision).toBe(
      'CONSENT_DENY',
    );
    expect((await decide(person, { purposeOfUse: 'TREAT', actor: [GP] })).extension.decision).toBe(
      'CONSENT_PERMIT',
    );
  });

  it('denies a practitioner a consent names by UZI number, alone or with an organisation', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [{ type: 'deny', actor: [toDrVisser], action: accessAndCorrect }],
    });
    expect((await decide(person, { actor: [DR_VISSER] })).extension.decision).toBe('CONSENT_DENY');
    expect((await decide(person, { actor: [DR_VISSER, YOUTH_CARE] })).extension.decision).toBe(
      'CONSENT_DENY',
    );
    expect((await decide(person, { actor: [YOUTH_CARE] })).extension.decision).toBe('CONSENT_PERMIT');
  });

  it('permits with a REDACT obligation for a nested deny by security label, without content', async () => {
    const { person, basedOn } = await given({
      type: 'permit',
      period: inForce,
      provision: [
        {
          type: 'deny',
          securityLabel: [{ system: CONFIDENTIALITY, code: 'R' }],
          actor: [toGp],
          action: accessAndCorrect,
        },
      ],
    });
    const card = await decide(person, { actor: [GP] });
    expect(card.extension).toEqual({
      decision: 'CONSENT_PERMIT',
      obligations: [{ id: REDACT, parameters: { codes: [{ system: CONFIDENTIALITY, code: 'R' }] } }],
      basedOn,
    });
    // Another recipient is not under the exception: no obligation.
    expect((await decide(person)).extension.obligations).toEqual([]);
  });

  it('removes the labelled entry from the content and keeps the rest (the minimisation of $exchange)', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [{ type: 'deny', securityLabel: [{ system: CONFIDENTIALITY, code: 'R' }], actor: [toGp] }],
    });
    const card = await decide(person, { actor: [GP], content: contentOf(person) });
    expect(card.extension.decision).toBe('CONSENT_PERMIT');
    expect(card.extension.obligations[0]).toEqual({
      id: REDACT,
      parameters: { codes: [{ system: CONFIDENTIALITY, code: 'R' }] },
    });
    const content = card.extension.content!;
    expect(content.total).toBe(1);
    expect(content.entry!.map((e) => e.fullUrl)).toEqual(['urn:uuid:5a1e0000-0000-4000-8000-000000000002']);
    // Labelled as $exchange labels, and a question without purpose adds no empty purpose label.
    expect(content.meta!.security!.every((l) => typeof l.code === 'string')).toBe(true);
  });

  it('lists several labels of one nested deny in one obligation', async () => {
    const labels = [
      { system: ACT_CODE, code: 'PSY' },
      { system: ACT_CODE, code: 'SDV' },
    ];
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [{ type: 'deny', securityLabel: labels }],
    });
    expect((await decide(person, { actor: [GP] })).extension.obligations).toEqual([
      { id: REDACT, parameters: { codes: labels } },
    ]);
  });

  it('combines an array of nested provisions: labels become one obligation, a refused purpose denies', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [
        {
          type: 'deny',
          securityLabel: [{ system: CONFIDENTIALITY, code: 'R' }],
          actor: [toGp],
          action: accessAndCorrect,
        },
        { type: 'deny', securityLabel: [{ system: CONFIDENTIALITY, code: 'V' }], actor: [toGp] },
        { type: 'deny', purpose: [purpose('HMARKT')] },
      ],
    });
    const treat = await decide(person, { actor: [GP], purposeOfUse: 'TREAT' });
    expect(treat.extension.decision).toBe('CONSENT_PERMIT');
    expect(treat.extension.obligations).toEqual([
      {
        id: REDACT,
        parameters: {
          codes: [
            { system: CONFIDENTIALITY, code: 'R' },
            { system: CONFIDENTIALITY, code: 'V' },
          ],
        },
      },
    ]);
    expect((await decide(person, { actor: [GP], purposeOfUse: 'HMARKT' })).extension.decision).toBe(
      'CONSENT_DENY',
    );
  });

  const medication = { system: RESOURCE_TYPES, code: 'MedicationStatement' };
  const restricted = { system: CONFIDENTIALITY, code: 'R' };

  it('lists label and class of one nested deny together', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [{ type: 'deny', securityLabel: [restricted], class: [medication], actor: [toGp] }],
    });
    expect((await decide(person, { actor: [GP] })).extension.obligations).toEqual([
      { id: REDACT, parameters: { codes: [restricted, medication] } },
    ]);
  });

  it('skips a class exception when another class is asked for, and keeps the label exception', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [
        { type: 'deny', class: [medication], actor: [toGp] },
        { type: 'deny', securityLabel: [restricted], actor: [toGp] },
      ],
    });
    const card = await decide(person, {
      actor: [GP],
      class: [{ system: RESOURCE_TYPES, code: 'Immunization' }],
    });
    expect(card.extension).toMatchObject({
      decision: 'CONSENT_PERMIT',
      obligations: [{ id: REDACT, parameters: { codes: [restricted] } }],
    });
  });

  it('denies a class that a nested provision refuses as a whole', async () => {
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [{ type: 'deny', class: [medication], actor: [toGp] }],
    });
    const card = await decide(person, { actor: [GP], class: [medication] });
    expect(card.extension).toMatchObject({ decision: 'CONSENT_DENY', obligations: [] });
  });

  it('turns a nested deny by clinical code into a REDACT obligation, and redacts content carrying the code', async () => {
    const code = { system: 'http://loinc.org', code: '42828-4' };
    const { person } = await given({
      type: 'permit',
      period: inForce,
      provision: [{ type: 'deny', code: [{ coding: [code] }], actor: [toGp] }],
    });
    const card = await decide(person, { actor: [GP] });
    expect(card.extension.obligations).toEqual([{ id: REDACT, parameters: { codes: [code] } }]);
    const content = contentOf(person);
    (content.entry![1]!.resource as { category?: unknown }).category = [{ coding: [code] }];
    const redacted = await decide(person, { actor: [GP], content });
    expect(redacted.extension.content!.entry!.map((e) => e.fullUrl)).toEqual([
      'urn:uuid:5a1e0000-0000-4000-8000-000000000001',
    ]);
  });

  it('answers NO_CONSENT without basedOn when the person has no consent', async () => {
    const person = await newPerson(sandbox.url, cjg);
    const card = await decide(person);
    expect(card.extension).toEqual({ decision: 'NO_CONSENT', obligations: [] });
  });

  describe("LEAP's 400 cases", () => {
    const sample = { hook: 'patient-consent-consult', hookInstance: '12342' };
    const actor = [{ system: 'urn:ietf:rfc:3986', value: '2.16.840.1.113883.20.5' }];
    const diagnostics = (body: Record<string, unknown>) =>
      ((body as { issue?: { diagnostics?: string }[] }).issue ?? []).map((i) => i.diagnostics).join(' ');

    it('refuses an empty body and one with only a hookInstance', async () => {
      for (const body of [{}, { hookInstance: '12342' }]) {
        const res = await ask(body);
        expect(res.status).toBe(400);
        expect(res.body.resourceType).toBe('OperationOutcome');
      }
    });

    it('refuses another hook name, naming the hook it expects', async () => {
      const res = await ask({ hook: 'wrongName', hookInstance: '12342', context: {} });
      expect(res.status).toBe(400);
      expect(diagnostics(res.body)).toMatch('patient-consent-consult');
    });

    it('refuses a patientId without value', async () => {
      const res = await ask({ ...sample, context: { patientId: [{ system: '1', code: '2' }], actor } });
      expect(res.status).toBe(400);
      expect(diagnostics(res.body)).toMatch('value');
    });

    it('refuses content whose entry has no resource', async () => {
      const res = await ask({
        ...sample,
        context: {
          patientId: [{ system: '1', value: '2' }],
          actor,
          content: { resourceType: 'Bundle', entry: [{}] },
        },
      });
      expect(res.status).toBe(400);
      expect(diagnostics(res.body)).toMatch('resource');
    });

    it('refuses context fields LEAP does not know, and a BSN that fails the 11-test', async () => {
      const extra = await ask({ ...sample, context: { patientId: [{ value: '2' }], actor, reason: 'x' } });
      expect(extra.status).toBe(400);
      const bsn = await ask({
        ...sample,
        context: { patientId: [{ system: BSN_SYSTEM, value: '123456789' }], actor },
      });
      expect(bsn.status).toBe(400);
    });

    it('refuses more than 10 purposes or 20 actor identifiers (deliberate: each purpose is a decision)', async () => {
      const patientId = [{ system: BSN_SYSTEM, value: '999910036' }];
      const purposes = await ask({
        ...sample,
        context: { patientId, actor, purposeOfUse: [...'ABCDEFGHIJK'] },
      });
      expect(purposes.status).toBe(400);
      const actors = Array.from({ length: 21 }, (_, i) => ({ system: 'urn:x', value: String(i) }));
      expect((await ask({ ...sample, context: { patientId, actor: actors } })).status).toBe(400);
    });

    it('answers a patient it cannot identify (not a BSN) with NO_CONSENT, as LEAP answers an unknown patient', async () => {
      const res = await ask({ ...sample, context: { patientId: [{ system: '1', value: '2' }], actor } });
      expect(res.status).toBe(200);
      expect(res.body.cards[0]!.extension).toEqual({ decision: 'NO_CONSENT', obligations: [] });
    });
  });
});
