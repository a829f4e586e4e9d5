// Agency data as it really is: every corpus export passes $validate and $exchange on both engines, and what each
// consent shape delivers and removes is what the corpus expects, with reasons in Dutch and English.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { loadCorpus, SHAPES, shapedConsent, type Verdict } from './agency-corpus.js';
import { ENGINES, exchangeParameters, fhir, freshDatabase, sandboxToken, testSandbox } from './helpers.js';

const CORPUS = loadCorpus();
const RECIPIENT = 'Organization/cjg-venlo';
const ROLE_OF: Record<string, string> = {
  'huisartsen-de-linde': 'gp',
  'jeugdzorg-horizon': 'youth-care',
  'school-de-wilgen': 'school',
  'veilig-thuis-noord-limburg': 'veilig-thuis',
  'gemeente-venlo': 'municipality',
};

const KEPT = ['Patient', 'RelatedPerson', 'Group', 'Consent', 'Organization', 'Endpoint'];
const errorsOf = (o: OperationOutcome) =>
  (o.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal' || i.severity === 'warning');

describe('the agency export corpus', () => {
  it('holds at least 15 exports from GPs, jeugd-GGZ, schools, Veilig Thuis and municipalities', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(15);
    expect(new Set(CORPUS.map((c) => c.source))).toEqual(new Set(Object.keys(ROLE_OF)));
    const types = new Set(CORPUS.flatMap((c) => c.bundle.entry!.map((e) => e.resource!.resourceType)));
    for (const t of [
      'Patient',
      'Condition',
      'Observation',
      'Encounter',
      'MedicationStatement',
      'DocumentReference',
    ])
      expect(types, t).toContain(t);
    for (const c of CORPUS)
      for (const shape of SHAPES) {
        const v = c.expected[shape];
        expect([...v.delivered, ...Object.keys(v.removed)].sort(), `${c.file} ${shape}`).toEqual(
          c.bundle.entry!.map((e) => e.fullUrl!).sort(),
        );
      }
  });
});

describe.each(ENGINES)('agency exports through $validate and $exchange on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  const tokens: Record<string, string> = {};
  const patientRefs: Record<string, string> = {};

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    for (const role of Object.values(ROLE_OF)) tokens[role] = await sandboxToken(sandbox, role);
    // Each subject is registered in the exporting agency's own person registration: BSN and birth date.
    for (const c of CORPUS) {
      const own = c.bundle.entry!.find((e) =>
        (e.resource as Patient).identifier?.some((i) => i.value === c.subject.bsn),
      )!.resource as Patient;
      const created = await fhir(sandbox.url, tokens[ROLE_OF[c.source]!]!, 'POST', '/fhir/Patient', {
        resourceType: 'Patient',
        identifier: own.identifier,
        birthDate: own.birthDate,
      });
      expect(created.status, c.file).toBe(201);
      patientRefs[c.file] = `Patient/${created.body.id as string}`;
    }
  }, 60_000);
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('validates every export and every resource in it as payload content: valid, whatever profile it claims', async () => {
    for (const c of CORPUS) {
      const token = tokens[ROLE_OF[c.source]!]!;
      const whole = await fhir<OperationOutcome>(
        sandbox.url,
        token,
        'POST',
        '/fhir/Bundle/$validate',
        c.bundle,
      );
      expect(whole.status, c.file).toBe(200);
      expect(errorsOf(whole.body), c.file).toEqual([]);
      for (const e of c.bundle.entry!) {
        const type = e.resource!.resourceType;
        // Index and directory types are validated as the entries the gateway keeps (a create); in a payload they are
        // content, checked by the Bundle's own $validate above.
        if (KEPT.includes(type)) continue;
        const one = await fhir<OperationOutcome>(
          sandbox.url,
          token,
          'POST',
          `/fhir/${type}/$validate`,
          e.resource,
        );
        expect(errorsOf(one.body), `${c.file} ${type}`).toEqual([]);
      }
    }
    // A claimed nl-core profile the gateway does not know is reported as information, never refused.
    const [first] = CORPUS;
    const answer = await fhir<OperationOutcome>(
      sandbox.url,
      tokens.gp!,
      'POST',
      '/fhir/Bundle/$validate',
      first!.bundle,
    );
    expect(
      answer.body.issue!.some((i) => i.severity === 'information' && /nl-core-Patient/.test(i.diagnostics!)),
    ).toBe(true);
  }, 120_000);

  it('delivers and removes per consent shape exactly what the corpus expects, and says why', async () => {
    for (const c of CORPUS) {
      const token = tokens[ROLE_OF[c.source]!]!;
      for (const shape of SHAPES) {
        const consent = await fhir(
          sandbox.url,
          token,
          'POST',
          '/fhir/Consent',
          shapedConsent(patientRefs[c.file]!, RECIPIENT, 'CAREMGT', shape),
        );
        expect(consent.status, `${c.file} ${shape}`).toBe(201);
        const res = await fhir<Parameters>(
          sandbox.url,
          token,
          'POST',
          '/fhir/$exchange',
          exchangeParameters(RECIPIENT, c.subject.bsn, 'CAREMGT', c.bundle),
          { 'accept-language': 'nl' },
        );
        const what = `${c.file} under ${shape}: ${JSON.stringify(res.body).slice(0, 400)}`;
        expect(res.status, what).toBe(202);
        const delivered = res.body.parameter!.find((p) => p.name === 'delivered')!.resource as Bundle;
        const actual: Verdict = { delivered: delivered.entry!.map((e) => e.fullUrl!), removed: {} };
        for (const o of res.body.parameter!.filter((p) => p.name === 'reason')) {
          const code = o.part!.find((p) => p.name === 'code')!.valueCoding!.code!;
          const text = o.part!.find((p) => p.name === 'text')!.valueString!;
          if (code !== 'data-removed' && code !== 'unknown-content-removed') continue;
          const url = c.bundle.entry!.find((e) => text.startsWith(e.fullUrl!))?.fullUrl ?? text;
          actual.removed[url] = code;
          if (code === 'unknown-content-removed') expect(text, what).toMatch(/onbekende inhoud/);
        }
        expect(actual.delivered.sort(), what).toEqual([...c.expected[shape].delivered].sort());
        expect(actual.removed, what).toEqual(c.expected[shape].removed);
        await fhir(sandbox.url, token, 'POST', `/fhir/Consent/${consent.body.id as string}/$withdraw`, {});
      }
    }
  }, 240_000);

  it('explains unknown content in English as "unknown content" when English is asked', async () => {
    const c = CORPUS.find((x) => x.file.startsWith('06-'))!;
    const consent = await fhir(
      sandbox.url,
      tokens['youth-care']!,
      'POST',
      '/fhir/Consent',
      shapedConsent(patientRefs[c.file]!, RECIPIENT, 'CAREMGT', 'general'),
    );
    const res = await fhir<Parameters>(
      sandbox.url,
      tokens['youth-care']!,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(RECIPIENT, c.subject.bsn, 'CAREMGT', c.bundle),
      { 'accept-language': 'en' },
    );
    const texts = res.body
      .parameter!.filter((p) => p.name === 'reason')
      .map((p) => p.part!.find((x) => x.name === 'text')!.valueString!);
    expect(texts.some((t) => /unknown content/.test(t) && t.includes('Verslag') === false)).toBe(true);
    await fhir(
      sandbox.url,
      tokens['youth-care']!,
      'POST',
      `/fhir/Consent/${consent.body.id as string}/$withdraw`,
      {},
    );
  });
});
