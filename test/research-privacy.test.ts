// Research never re-identifies: what the research organisation can fetch names no person and links no pseudonym to one.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Parameters, Patient, Resource, Task } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { BSN_SYSTEM } from '../src/store/resources.js';
import {
  consentResource,
  ENGINES,
  exchangeParameters,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  legalBasisParameters,
  param,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
  waitFor,
} from './helpers.js';

const RESEARCH = 'Organization/onderzoek-jeugd';
const CJG_ORG = 'Organization/cjg-venlo';
const NOAH = '999910036';
const PSEUDONYM_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/pseudonym';
const LIFE_DOMAIN = 'https://ketenpoort.nl/fhir/CodeSystem/life-domain';

/** The identifying texts the pseudonymised payload used to keep (issue #19, finding 2). */
const IDENTIFYING = [
  'Plan gezin Bakker',
  'YC-01-BAKKER-LOTTE',
  'CJG-NOAH-JANSEN-0042',
  'Noah Jansen (BSN 999910036)',
  'N.J.',
  'Bakker',
  'Lotte',
  'Noah',
  'Jansen',
  'Venlo',
  '0612345678',
  NOAH,
];

const researchBasis = () =>
  legalBasisParameters('jw-7.3.12-research', 'Evaluatie gezinscoaching 2026, protocol JG-2026-04.', {
    'research-protocol': 'JG-2026-04',
  });

/** A family plan about Noah as a CJG system records it: names, local identifiers, narrative, notes, initials. */
function noahPayload(bsn = NOAH): Bundle {
  const patient = 'urn:uuid:5a0c1f7e-2b7d-4c51-9a43-000000000001';
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: patient,
        resource: {
          resourceType: 'Patient',
          text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Noah Jansen</div>' },
          extension: [
            { url: 'https://ketenpoort.nl/fhir/StructureDefinition/initials', valueString: 'N.J.' },
          ],
          identifier: [
            { system: BSN_SYSTEM, value: bsn },
            { system: 'https://cjg-venlo.nl/client', value: 'CJG-NOAH-JANSEN-0042' },
          ],
          name: [{ family: 'Jansen', given: ['Noah'] }],
          telecom: [{ system: 'phone', value: '0612345678' }],
          address: [{ line: ['Bakkerstraat 1'], city: 'Venlo' }],
          gender: 'male',
          birthDate: '2017-03-14',
        },
      },
      {
        fullUrl: 'urn:uuid:5a0c1f7e-2b7d-4c51-9a43-000000000002',
        resource: {
          resourceType: 'CarePlan',
          identifier: [{ system: 'https://jeugdzorg-horizon.nl/plan', value: 'YC-01-BAKKER-LOTTE' }],
          status: 'active',
          intent: 'plan',
          title: 'Plan gezin Bakker',
          description: 'Noah Jansen (BSN 999910036)',
          category: [
            {
              coding: [{ system: 'http://snomed.info/sct', code: '734163000', display: 'Plan gezin Bakker' }],
              text: 'Plan gezin Bakker',
            },
          ],
          subject: { reference: patient, display: 'Noah Jansen' },
          period: { start: '2025-09-14' },
          note: [{ text: 'Lotte Bakker belt op dinsdag' }],
        },
      },
      {
        fullUrl: 'urn:uuid:5a0c1f7e-2b7d-4c51-9a43-000000000003',
        resource: {
          resourceType: 'Goal',
          lifecycleStatus: 'active',
          category: [{ coding: [{ system: LIFE_DOMAIN, code: 'parenting' }] }],
          description: { text: 'Noah Jansen gaat weer naar school' },
          subject: { reference: patient },
        },
      },
    ],
  };
}

/** Every string value anywhere in a JSON value. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

function expectNothingIdentifying(what: unknown, texts: string[] = IDENTIFYING): void {
  const json = JSON.stringify(what);
  for (const text of texts) expect(json, `"${text}" leaked`).not.toContain(text);
}

describe.each(ENGINES)('research never re-identifies on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  let research: string;
  let answer: Parameters;
  let taskId: string;

  const exchangeToResearch = (payload: Bundle, extra = researchBasis()) =>
    fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(RESEARCH, NOAH, 'HRESCH', payload, extra),
    );
  const receivedByResearch = (identifier: string) =>
    waitFor(async () =>
      sandbox.agencies.received('onderzoek-jeugd').find((b) => b.identifier?.value === identifier),
    );

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({ logLevel: 'error' } as never, fresh.db);
    [cjg, research] = await Promise.all([sandboxToken(sandbox, 'cjg'), sandboxToken(sandbox, 'research')]);
    const res = await exchangeToResearch(noahPayload());
    expect(res.status).toBe(202);
    answer = res.body;
    taskId = param(answer, 'exchange')!.valueReference!.reference!.split('/')[1]!;
  });
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('answers the exchange with a delivered Bundle that keeps no name, identifier, free text or BSN', () => {
    expect(param(answer, 'decision')?.valueCode).toBe('permit');
    expectNothingIdentifying(answer);
    const delivered = param(answer, 'delivered')!.resource as Bundle;
    const patient = delivered.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource!;
    expect(patient).toMatchObject({
      identifier: [{ system: PSEUDONYM_SYSTEM }],
      gender: 'male',
      birthDate: '2017',
    });
    for (const element of Object.keys(patient))
      expect(['resourceType', 'id', 'meta', 'identifier', 'gender', 'birthDate']).toContain(element);
    const goal = delivered.entry!.find((e) => e.resource?.resourceType === 'Goal')!.resource!;
    expect(goal).toMatchObject({ category: [{ coding: [{ system: LIFE_DOMAIN, code: 'parenting' }] }] });
  });

  it('keeps the coded content and replaces references by pseudonyms that agree within the Bundle', () => {
    const delivered = param(answer, 'delivered')!.resource as Bundle;
    const byType = (type: string) => delivered.entry!.find((e) => e.resource?.resourceType === type)!;
    const patient = byType('Patient');
    const plan = byType('CarePlan').resource as Resource & Record<string, unknown>;
    expect(patient.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(patient.fullUrl).not.toBe('urn:uuid:5a0c1f7e-2b7d-4c51-9a43-000000000001');
    expect(plan).toMatchObject({
      status: 'active',
      intent: 'plan',
      subject: { reference: patient.fullUrl },
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '734163000' }] }],
      period: { start: '2025-09' },
    });
    expect((byType('Goal').resource as unknown as { subject: { reference: string } }).subject.reference).toBe(
      patient.fullUrl,
    );
    for (const e of delivered.entry!) expect(e.fullUrl).toBe(`urn:uuid:${e.resource!.id}`);
  });

  it('delivers to the research agency a Bundle without anything identifying', async () => {
    const delivered = param(answer, 'delivered')!.resource as Bundle;
    const received = await receivedByResearch(delivered.identifier!.value!);
    expectNothingIdentifying(received);
    const pseudonyms = received.entry!.flatMap((e) =>
      ((e.resource as { identifier?: { system?: string; value?: string }[] }).identifier ?? []).filter(
        (i) => i.system === PSEUDONYM_SYSTEM,
      ),
    );
    expect(pseudonyms).toHaveLength(1);
  });

  it("shows research the exchange's Task and its notices without the person, the BSN or the Bundle, and the sender all of it", async () => {
    const delivered = param(answer, 'delivered')!.resource as Bundle;
    await receivedByResearch(delivered.identifier!.value!);
    const search = await fhir<Bundle>(sandbox.url, research, 'GET', '/fhir/Task?code=exchange');
    expect(search.status).toBe(200);
    const tasks = (search.body.entry ?? []).map((e) => e.resource as Task);
    expect(tasks.map((t) => t.id)).toContain(taskId);
    const read = await fhir<Task>(sandbox.url, research, 'GET', `/fhir/Task/${taskId}`);
    expect(read.status).toBe(200);
    for (const task of [...tasks, read.body]) {
      expect(task.for).toBeUndefined();
      expect(task.input).toBeUndefined();
      expect(task.identifier).toBeUndefined();
      expect(task.owner?.reference).toBe(RESEARCH);
    }
    const link = [delivered.identifier!.value!, 'Patient/', BSN_SYSTEM];
    expectNothingIdentifying(search.body, [...IDENTIFYING, ...link]);
    expectNothingIdentifying(read.body, [...IDENTIFYING, ...link]);
    // The privacy officer's review Task of this use (with the justification and the person) is not research's.
    const review = param(answer, 'review')!.valueReference!.reference!;
    expect((await fhir(sandbox.url, research, 'GET', `/fhir/${review}`)).status).toBe(404);
    const notices = await fhir<Bundle>(sandbox.url, research, 'GET', '/fhir/Communication');
    expect(notices.status).toBe(200);
    expectNothingIdentifying(notices.body, [...IDENTIFYING, ...link]);
    // The sender keeps its own view: the person and the Bundle it sent.
    const own = await fhir<Task>(sandbox.url, cjg, 'GET', `/fhir/Task/${taskId}`);
    expect(own.status).toBe(200);
    expect(own.body.for?.identifier).toEqual({ system: BSN_SYSTEM, value: NOAH });
    expect(own.body.input?.[0]?.valueIdentifier?.value).toBe(delivered.identifier!.value);
  });

  it('refuses research a Task search by person and names no one in the refusal', async () => {
    for (const query of [
      `patient:identifier=${BSN_SYSTEM}|${NOAH}`,
      `patient=Patient/x`,
      `identifier=urn:ietf:rfc:3986|urn:uuid:x`,
      `code=exchange&patient:identifier=${NOAH}`,
    ]) {
      const res = await fhir(sandbox.url, research, 'GET', `/fhir/Task?${query}`);
      expect(res.status, query).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expectNothingIdentifying(res.body);
    }
  });

  it('lets research name no person: exchanges, pulls, decisions and CDS Hooks by BSN are refused without the BSN', async () => {
    const hresch = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' };
    const calls: [string, unknown][] = [
      ['/fhir/$exchange', exchangeParameters(CJG_ORG, NOAH, 'HRESCH', noahPayload())],
      [
        '/fhir/$request-records',
        {
          resourceType: 'Parameters',
          parameter: [
            { name: 'source', valueReference: { reference: CJG_ORG } },
            { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: NOAH } },
            { name: 'purpose', valueCoding: hresch },
            { name: 'category', valueCoding: { code: 'care-plan' } },
          ],
        },
      ],
      [
        '/fhir/$consent-decision',
        {
          resourceType: 'Parameters',
          parameter: [
            { name: 'recipient', valueReference: { reference: RESEARCH } },
            { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: NOAH } },
            { name: 'purpose', valueCoding: hresch },
          ],
        },
      ],
      [
        '/cds-services/patient-consent-consult',
        {
          hook: 'patient-consent-consult',
          hookInstance: 'f6a9b1c2-0000-4000-8000-000000000001',
          context: {
            patientId: [{ system: BSN_SYSTEM, value: NOAH }],
            scope: 'research',
            purposeOfUse: ['HRESCH'],
            actor: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000109' }],
          },
        },
      ],
    ];
    for (const [path, body] of calls) {
      const res = await fhir(sandbox.url, research, 'POST', path, body);
      expect(res.status, path).toBe(403);
      expectNothingIdentifying(res.body);
    }
    expect(sandbox.agencies.received('cjg-venlo')).toHaveLength(0);
  });

  it('never sends a BSN to the research organisation: it cannot be the source of a pull', async () => {
    const bsn = testBsn();
    const patient = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(30)),
    );
    expect(patient.status).toBe(201);
    const ref = `Patient/${patient.body.id as string}`;
    // The CJG has the person's consent to receive their records, so the pull itself would be permitted.
    const consent = consentResource(ref, [ref], [CJG_ORG], ['CAREMGT']);
    expect((await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', consent)).status).toBe(201);
    const pull = await fhir(sandbox.url, cjg, 'POST', '/fhir/$request-records', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'source', valueReference: { reference: RESEARCH } },
        { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: bsn } },
        {
          name: 'purpose',
          valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
        },
        { name: 'category', valueCoding: { code: 'care-plan' } },
      ],
    });
    expect(pull.status).toBe(403);
    expect(JSON.stringify(pull.body)).toContain('onderzoeksorganisatie');
  });

  /** A 20-year-old registered by the CJG who consented herself to research (HRESCH); her BSN and reference. */
  async function consentingToResearch(extra: Partial<Patient> = {}): Promise<{ bsn: string; ref: string }> {
    const bsn = testBsn();
    const patient = await fhir(sandbox.url, cjg, 'POST', '/fhir/Patient', {
      ...patientResource(bsn, isoDateYearsAgo(20)),
      ...extra,
    });
    expect(patient.status).toBe(201);
    const ref = `Patient/${patient.body.id as string}`;
    const consent = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(ref, [ref], [RESEARCH], ['HRESCH']),
    );
    expect(consent.status).toBe(201);
    return { bsn, ref };
  }

  it('pseudonymises what research receives under a consent as well', async () => {
    const { bsn } = await consentingToResearch({ name: [{ family: 'Bakker', given: ['Lotte'] }] });
    const res = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(RESEARCH, bsn, 'HRESCH', noahPayload(bsn)),
    );
    expect(res.status).toBe(202);
    expect(param(res.body, 'basis')?.valueCode).toBe('consent');
    const delivered = param(res.body, 'delivered')!.resource as Bundle;
    expectNothingIdentifying(delivered, [...IDENTIFYING, bsn]);
    expect(res.body.parameter?.some((p) => p.part?.some((q) => q.valueCode === 'PSEUD'))).toBe(true);
    expectNothingIdentifying(await receivedByResearch(delivered.identifier!.value!), [...IDENTIFYING, bsn]);
  });

  it('lets no BSN through inside a code: the subject’s BSN within SNOMED CT or LOINC digits is dropped', async () => {
    const { bsn, ref } = await consentingToResearch();
    const goal = (code: { system: string; code: string }) => ({
      resource: {
        resourceType: 'Goal',
        lifecycleStatus: 'active',
        description: { coding: [code] },
        subject: { reference: ref },
      },
    });
    const payload: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        goal({ system: 'http://snomed.info/sct', code: `4${bsn}` }),
        goal({ system: 'http://snomed.info/sct', code: `${bsn}0` }),
        goal({ system: 'http://loinc.org', code: `${bsn.slice(0, 8)}-${bsn[8]}` }),
        goal({ system: 'http://snomed.info/sct', code: '386661006' }),
      ] as Bundle['entry'],
    };
    const res = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(RESEARCH, bsn, 'HRESCH', payload),
    );
    expect(res.status).toBe(202);
    const delivered = param(res.body, 'delivered')!.resource as Bundle;
    expect(JSON.stringify(delivered)).not.toContain(bsn.slice(0, 8));
    expect(JSON.stringify(delivered)).toContain('386661006');
    const received = await receivedByResearch(delivered.identifier!.value!);
    expect(JSON.stringify(received)).not.toContain(bsn.slice(0, 8));
  });

  it('drops any text placed in any free-text element of the payload (property)', async () => {
    const freeText: ((b: Bundle, s: string) => void)[] = [
      (b, s) => ((b.entry![1]!.resource as unknown as Record<string, unknown>).title = s),
      (b, s) => ((b.entry![1]!.resource as unknown as Record<string, unknown>).description = s),
      (b, s) => ((b.entry![1]!.resource as unknown as { note: { text: string }[] }).note = [{ text: s }]),
      (b, s) => ((b.entry![0]!.resource as unknown as { name: unknown }).name = [{ family: s, text: s }]),
      (b, s) =>
        (b.entry![0]!.resource as unknown as { identifier: unknown[] }).identifier.push({
          system: 'urn:x',
          value: s,
        }),
      (b, s) =>
        (b.entry![0]!.resource as unknown as { extension: unknown[] }).extension.push({
          url: 'https://ketenpoort.nl/fhir/StructureDefinition/nationality',
          valueString: s,
        }),
      (b, s) => ((b.entry![2]!.resource as unknown as { description: unknown }).description = { text: s }),
      (b, s) =>
        ((b.entry![1]!.resource as unknown as { category: unknown }).category = [
          { coding: [{ system: 'http://snomed.info/sct', code: '734163000', display: s }], text: s },
        ]),
      (b, s) => ((b.entry![1]!.resource as unknown as { subject: { display: string } }).subject.display = s),
      (b, s) =>
        ((b.entry![0]!.resource as unknown as { address: unknown }).address = [{ line: [s], city: s }]),
    ];
    // Text as people write it in a record: words of letters, digits and punctuation, single spaces between them.
    const freeTextValue = fc
      .stringMatching(/^[A-Za-z0-9À-ž][A-Za-z0-9À-ž.,'()/-]{0,11}( [A-Za-z0-9À-ž.,'()/-]{1,12}){0,3}$/)
      .filter((s) => s.length >= 6);
    const baseline = stringsIn(param((await exchangeToResearch(noahPayload())).body, 'delivered')!.resource);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: freeText.length - 1 }), freeTextValue), {
          minLength: 1,
          maxLength: 5,
        }),
        async (placements) => {
          const payload = noahPayload();
          for (const [at, text] of placements) freeText[at]!(payload, text);
          fc.pre(placements.every(([, text]) => !baseline.some((b) => b.includes(text))));
          const res = await exchangeToResearch(payload);
          expect(res.status).toBe(202);
          const out = stringsIn(param(res.body, 'delivered')!.resource);
          for (const [, text] of placements)
            expect(
              out.some((o) => o.includes(text)),
              text,
            ).toBe(false);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
