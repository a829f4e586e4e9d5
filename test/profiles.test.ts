// The Ketenpoort profiles: generated StructureDefinitions with snapshots, served at /fhir/StructureDefinition, and
// every incoming resource checked against its profile: $validate answers the issues (200), a create or exchange
// refuses with 422, each issue at its element path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { validateResource } from '@medplum/core';
import { loadStructureDefinitions } from '../src/mappings/profiles.js';
import { checkFhir, loadFhirDefinitions } from '../src/mappings/validate.js';
import { accepted } from '../src/fhir/verdict.js';
import { loadStructureSchema } from '../src/mappings/structure.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { fhir, sandboxToken, testSandbox } from './helpers.js';

const KP = 'https://ketenpoort.nl/fhir/StructureDefinition';
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const LIFE = 'https://ketenpoort.nl/fhir/CodeSystem/life-domain';

describe('profiles', () => {
  let sandbox: RunningSandbox;
  let token: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    token = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(() => sandbox?.close());
  const validate = async (resource: Resource) => {
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      token,
      'POST',
      `/fhir/${resource.resourceType}/$validate`,
      resource,
    );
    return {
      status: res.status,
      at: (res.body.issue ?? []).filter((i) => i.severity === 'error').map((i) => i.expression?.[0]),
      text: (res.body.issue ?? []).map((i) => i.diagnostics).join(' | '),
    };
  };

  it('are StructureDefinitions with snapshots that @medplum/core can parse, served with search by type', async () => {
    loadFhirDefinitions();
    const all = loadStructureDefinitions();
    const ids = all.map((sd) => sd.id);
    for (const id of [
      'family',
      'child',
      'parent',
      'referral',
      'coordination',
      'care-team',
      'family-plan',
      'life-domain-goal',
      'life-domain-problem',
      'privacy-consent',
      'escalation',
    ])
      expect(ids).toContain(`kp-${id}`);
    for (const sd of all) {
      expect(sd.snapshot?.element?.length).toBeGreaterThan(3);
      expect(sd.differential?.element?.length).toBeGreaterThan(0);
    }
    // The generated snapshot is usable by a standard validator (here @medplum/core's, for one profile).
    const family = all.find((sd) => sd.id === 'kp-family')!;
    expect(() =>
      validateResource(
        {
          resourceType: 'Group',
          type: 'animal',
          actual: true,
          member: [{ entity: { reference: 'Patient/x' } }],
        },
        { profile: family },
      ),
    ).toThrow(/pattern|fixed/i);
    const res = await fhir<Bundle>(
      sandbox.url,
      undefined,
      'GET',
      '/fhir/StructureDefinition?type=RelatedPerson',
    );
    expect(res.body.entry!.map((e) => (e.resource as StructureDefinition).url)).toEqual([`${KP}/parent`]);
    const one = await fhir<StructureDefinition>(
      sandbox.url,
      undefined,
      'GET',
      '/fhir/StructureDefinition/kp-parental-authority',
    );
    expect(one.body.context).toEqual([{ type: 'element', expression: 'RelatedPerson' }]);
  });

  it('refuses a parent without parental authority, a child without birth date, each at its path', async () => {
    const parent = await validate({
      resourceType: 'RelatedPerson',
      patient: { reference: 'Patient/x' },
      relationship: [{ text: 'moeder' }],
    });
    expect(parent.at).toEqual(['RelatedPerson.extension']);
    expect(parent.text).toMatch(/parental-authority/);
    const wrongType = await validate({
      resourceType: 'RelatedPerson',
      patient: { reference: 'Patient/x' },
      relationship: [{ text: 'moeder' }],
      extension: [{ url: `${KP}/parental-authority`, valueString: 'ja' }],
    });
    expect(wrongType.at).toEqual(['RelatedPerson.extension[0]']);
    const child = await validate({
      resourceType: 'Patient',
      identifier: [{ system: BSN, value: '999910036' }],
    });
    expect(child.at).toEqual(['Patient.birthDate']);
    // Stored resources go through the same validation: a create answers 422 and stores nothing.
    const created = await fhir<OperationOutcome>(sandbox.url, token, 'POST', '/fhir/Patient', {
      resourceType: 'Patient',
      identifier: [{ system: BSN, value: '999910036' }],
    });
    expect(created.status).toBe(422);
    expect(created.body.issue!.map((i) => i.expression?.[0])).toEqual(['Patient.birthDate']);
  });

  it('refuses a goal that claims the life-domain profile outside the life domains, and an unknown life-domain code', async () => {
    const goal = (coding: { system: string; code: string }) =>
      validate({
        resourceType: 'Goal',
        meta: { profile: [`${KP}/life-domain-goal`] },
        lifecycleStatus: 'active',
        description: { text: 'Schulden op orde' },
        subject: { reference: 'Group/g' },
        category: [{ coding: [coding] }],
      });
    expect((await goal({ system: LIFE, code: 'finances' })).at).toEqual([]);
    expect((await goal({ system: 'http://example.org/other', code: 'finances' })).at).toEqual([
      'Goal.category[0]',
    ]);
    const unknown = await goal({ system: LIFE, code: 'astrology' });
    expect(unknown.at).toEqual(['Goal.category[0].coding[0].code']);
    expect(unknown.text).toMatch(/"astrology" is not a code of/);
  });

  it('checks an escalation Task that names its profile: level and deadline required', async () => {
    const task = {
      resourceType: 'Task' as const,
      meta: { profile: [`${KP}/escalation`] },
      status: 'requested' as const,
      intent: 'order' as const,
      code: { coding: [{ system: 'https://ketenpoort.nl/fhir/CodeSystem/task-code', code: 'escalation' }] },
    };
    const missing = await validate(task);
    expect(missing.at.sort()).toEqual(['Task.extension', 'Task.restriction']);
    const ok = await validate({
      ...task,
      restriction: { period: { end: '2026-12-01' } },
      extension: [{ url: `${KP}/escalation-level`, valuePositiveInt: 2 }],
    });
    expect(ok.at).toEqual([]);
    const wrong = await validate({
      ...task,
      restriction: { period: { start: '2026-11-01' } },
      extension: [{ url: `${KP}/escalation-level`, valuePositiveInt: 4 }],
    });
    expect(wrong.at.sort()).toEqual(['Task.extension', 'Task.restriction.period.end']);
  });

  it('checks every resource of a payload Bundle against the profile it claims, naming the entry', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'Group',
            type: 'person',
            actual: true,
            member: [{ entity: { reference: 'Patient/a' } }],
          },
        },
        {
          resource: {
            resourceType: 'Condition',
            subject: { reference: 'Patient/a' },
            code: { text: 'schulden' },
          },
        },
      ],
    };
    // Payload content gets no Ketenpoort profile by default: the Condition coded in free text is ordinary R4.
    expect((await validate(bundle)).at).toEqual([]);
    const claimed = structuredClone(bundle);
    claimed.entry![1]!.resource!.meta = { profile: [`${KP}/life-domain-problem`] };
    const result = await validate(claimed);
    expect(result.at).toEqual(['Bundle.entry[1].resource.code']);
  });
});

describe('the fast structural pass', () => {
  const reject = (body: unknown, opts: { thorough?: boolean } = {}) => {
    try {
      accepted(checkFhir(body, undefined, opts));
    } catch (err) {
      return ((err as { outcome: OperationOutcome }).outcome.issue ?? []).map((i) => i.expression?.[0]);
    }
    return [];
  };
  const group = {
    resourceType: 'Group',
    type: 'person',
    actual: true,
    member: [{ entity: { reference: 'Patient/a' } }],
  };

  it('refuses what the full validation refuses, at the same place', () => {
    loadStructureSchema();
    const cases: [string, unknown, string][] = [
      ['an unknown element', { ...group, colour: 'red' }, 'Group.colour'],
      ['a wrong primitive type', { ...group, actual: 'yes' }, 'Group.actual'],
      ['a code outside its required value set', { ...group, type: 'alien' }, 'Group.type'],
      [
        'a malformed date',
        {
          resourceType: 'Patient',
          identifier: [{ system: BSN, value: '999910036' }],
          birthDate: '14-03-2017',
        },
        'Patient.birthDate',
      ],
      [
        'a missing required element of a backbone',
        { ...group, member: [{ period: { start: '2026-01-01' } }] },
        'Group.member[0].entity',
      ],
      [
        'a missing required element in a nested resource',
        {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [{ resource: { resourceType: 'Task', status: 'requested' } }],
        },
        'Bundle.entry[0].resource.intent',
      ],
    ];
    for (const [what, body, at] of cases) {
      expect(reject(body), what).toContain(at);
      expect(reject(body, { thorough: true }), `${what} (thorough)`).toContain(at);
    }
  });

  it('accepts the family plan Bundle in both modes', async () => {
    const { familyCarePlanBundle } = await import('../bench/validation.bench.js');
    expect(reject(familyCarePlanBundle())).toEqual([]);
    expect(reject(familyCarePlanBundle(), { thorough: true })).toEqual([]);
  });
});
