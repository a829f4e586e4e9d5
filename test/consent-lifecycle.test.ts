// The life of a consent around a decision, over HTTP on both engines: the regional covenant narrows and never grants,
// a deny of access for a recipient applies, evidence and signatories count, and every decision explains each consent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consent, OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  consentResource,
  ENGINES,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  legalBasisParameters,
  ORG,
  param,
  parentResource,
  patientResource,
  questionAbout,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const { GP, SCHOOL, MUNICIPALITY, VEILIG_THUIS } = ORG;
const ACTION = 'http://terminology.hl7.org/CodeSystem/consentaction';
const CATEGORY = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';

const question = (bsn: string, recipient: string, purpose: string, extra: ParametersParameter[] = []) =>
  questionAbout(bsn, recipient, extra, purpose);

const categories = (...codes: string[]): ParametersParameter[] =>
  codes.map((code) => ({ name: 'category', valueCoding: { system: CATEGORY, code } }));

const reasons = (p: Parameters) =>
  (p.parameter ?? []).filter((x) => x.name === 'reason').map((x) => x.part?.[0]?.valueCoding?.code);

const explanations = (p: Parameters) =>
  (p.parameter ?? [])
    .filter((x) => x.name === 'consentExplanation')
    .map((x) =>
      Object.fromEntries(
        (x.part ?? []).map((q) => [
          q.name,
          q.valueReference?.reference ??
            q.valueCode ??
            q.valueCoding?.code ??
            q.valueString ??
            q.valueDateTime ??
            q.valueBoolean,
        ]),
      ),
    );

interface Family {
  bsn: string;
  child: string;
  mother: string;
  father: string;
}

/** A child of the given age with two gezag holders, registered by the cjg. */
async function family(sandbox: RunningSandbox, token: string, age: number): Promise<Family> {
  const bsn = testBsn();
  const child = await fhir<{ id: string }>(
    sandbox.url,
    token,
    'POST',
    '/fhir/Patient',
    patientResource(bsn, isoDateYearsAgo(age, 30)),
  );
  expect(child.status).toBe(201);
  const ref = `Patient/${child.body.id}`;
  const parent = async () => {
    const r = await fhir<{ id: string }>(
      sandbox.url,
      token,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(ref, testBsn(), true),
    );
    expect(r.status).toBe(201);
    return `RelatedPerson/${r.body.id}`;
  };
  return { bsn, child: ref, mother: await parent(), father: await parent() };
}

async function record(sandbox: RunningSandbox, token: string, consent: Consent): Promise<string> {
  const r = await fhir<{ id: string }>(sandbox.url, token, 'POST', '/fhir/Consent', consent);
  expect(r.status).toBe(201);
  return `Consent/${r.body.id}`;
}

describe.each(ENGINES)('consent lifecycle with the regional covenant on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({ covenantsDir: 'profiles/covenants' }, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  const ask = (body: Parameters, token = cjg) =>
    fhir<Parameters>(sandbox.url, token, 'POST', '/fhir/$consent-decision', body);

  it('a covenant narrows a consent: the school receives only the categories the covenant lists for it', async () => {
    const f = await family(sandbox, cjg, 9);
    await record(sandbox, cjg, consentResource(f.child, [f.mother, f.father], [SCHOOL], ['CAREMGT']));
    const res = await ask(
      question(f.bsn, SCHOOL, 'CAREMGT', categories('school', 'care-plan', 'mental-health')),
    );
    expect(res.status).toBe(200);
    expect(param(res.body, 'decision')?.valueCode).toBe('permit');
    const redacted = (res.body.parameter ?? [])
      .filter((p) => p.name === 'obligation')
      .map((p) => p.part?.find((q) => q.name === 'detail')?.valueString);
    expect(redacted.join(' ')).toContain('care-plan');
    expect(redacted.join(' ')).toContain('mental-health');
    expect(redacted.join(' ')).not.toContain('Category school');
  });

  it('a covenant alone grants nothing: the GP is in the covenant, but without consent the answer is deny', async () => {
    const f = await family(sandbox, cjg, 9);
    const res = await ask(question(f.bsn, GP, 'CAREMGT'));
    expect(param(res.body, 'decision')?.valueCode).toBe('deny');
    expect(reasons(res.body)).toEqual(['consent-missing']);
  });

  it("outside every covenant the exchange is denied with its own reason, even with the parents' consent", async () => {
    const f = await family(sandbox, cjg, 9);
    await record(sandbox, cjg, consentResource(f.child, [f.mother, f.father], [MUNICIPALITY], ['TREAT']));
    const res = await ask(question(f.bsn, MUNICIPALITY, 'TREAT'));
    expect(param(res.body, 'decision')?.valueCode).toBe('deny');
    expect(reasons(res.body)).toEqual(['covenant-outside']);
    const nl = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$consent-decision',
      question(f.bsn, MUNICIPALITY, 'TREAT'),
      { 'accept-language': 'nl' },
    );
    const text = nl.body.parameter?.find((p) => p.name === 'reason')?.part?.[1]?.valueString;
    expect(text).toContain('convenant');
  });

  it('a statutory report (Veilig Thuis, Wmo 5.2.6) overrides the regional covenant', async () => {
    const f = await family(sandbox, cjg, 9);
    const res = await ask(
      question(
        f.bsn,
        VEILIG_THUIS,
        'CAREMGT',
        legalBasisParameters(
          'wmo-5.2.6-veilig-thuis',
          'Vermoeden van kindermishandeling na huisbezoek, meldcode gevolgd.',
          { 'meldcode-followed': true },
        ),
      ),
    );
    expect(param(res.body, 'decision')?.valueCode).toBe('permit');
    expect(param(res.body, 'basis')?.valueCode).toBe('legal-exception');
  });

  it('a deny of access for the recipient applies to an exchange to it, beside a permit of disclosure', async () => {
    const f = await family(sandbox, cjg, 9);
    await record(sandbox, cjg, consentResource(f.child, [f.mother, f.father], [GP], ['CAREMGT']));
    const denyAccess = consentResource(f.child, [f.mother], [GP], ['CAREMGT']);
    denyAccess.provision = {
      ...denyAccess.provision,
      type: 'deny',
      action: [{ coding: [{ system: ACTION, code: 'access' }] }],
    };
    const refusal = await record(sandbox, cjg, denyAccess);
    const res = await ask(question(f.bsn, GP, 'CAREMGT'));
    expect(param(res.body, 'decision')?.valueCode).toBe('deny');
    expect(reasons(res.body)).toEqual(['consent-refused']);
    expect(explanations(res.body).find((e) => e.consent === refusal)?.outcome).toBe('deny');
  });

  it('a decision lists why each of three consents did not apply, in Dutch and English', async () => {
    const f = await family(sandbox, cjg, 9);
    const other = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.mother, f.father], [SCHOOL], ['CAREMGT']),
    );
    const purpose = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.mother, f.father], [GP], ['TREAT']),
    );
    const inactive = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.mother, f.father], [GP], ['CAREMGT'], { status: 'inactive' }),
    );
    const res = await ask(question(f.bsn, GP, 'CAREMGT'));
    expect(param(res.body, 'decision')?.valueCode).toBe('deny');
    const lines = explanations(res.body);
    expect(lines.map((l) => [l.consent, l.outcome, l.reason])).toEqual([
      [other, 'not-applicable', 'consent-not-applicable-recipient'],
      [purpose, 'not-applicable', 'consent-not-applicable-purpose'],
      [inactive, 'not-applicable', 'consent-not-applicable-status'],
    ]);
    expect(lines[1]!.nl).toBe(`${purpose} is niet van toepassing: zij dekt de doelen TREAT, niet CAREMGT.`);
    expect(lines[1]!.en).toBe(`${purpose} does not apply: it covers purposes TREAT, not CAREMGT.`);
    expect(lines[2]!.nl).toContain('inactive');
  });

  it('an organisation that registered none of the consents is not told about them', async () => {
    const f = await family(sandbox, cjg, 9);
    await record(sandbox, cjg, consentResource(f.child, [f.mother, f.father], [SCHOOL], ['CAREMGT']));
    const gp = await sandboxToken(sandbox, 'gp');
    const res = await ask(question(f.bsn, SCHOOL, 'CAREMGT'), gp);
    expect(explanations(res.body)).toEqual([]);
  });

  it('the CDS hook card explains each consent below its detail, in Dutch and English', async () => {
    const f = await family(sandbox, cjg, 9);
    const other = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.mother, f.father], [SCHOOL], ['CAREMGT']),
    );
    const res = await fetch(`${sandbox.url}/cds-services/patient-consent-consult`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${cjg}`,
        'accept-language': 'nl',
      },
      body: JSON.stringify({
        hook: 'patient-consent-consult',
        hookInstance: 'lifecycle-1',
        context: {
          patientId: [{ system: BSN, value: f.bsn }],
          scope: 'patient-privacy',
          purposeOfUse: 'CAREMGT',
          actor: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000107' }],
        },
      }),
    });
    const { cards } = (await res.json()) as { cards: { summary: string; detail: string }[] };
    expect(cards[0]!.summary).toBe('NO_CONSENT');
    expect(cards[0]!.detail).toContain(
      `- ${other} is niet van toepassing: zij noemt andere organisaties dan ${GP}.`,
    );
    expect(cards[0]!.detail).toContain(`  ${other} does not apply: it names other organisations than ${GP}.`);
  });

  it('a refused exchange carries the explanation of each consent as information in its OperationOutcome', async () => {
    const f = await family(sandbox, cjg, 9);
    const other = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.mother, f.father], [SCHOOL], ['CAREMGT']),
    );
    const body = question(f.bsn, GP, 'CAREMGT', [
      {
        name: 'payload',
        resource: {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [
            {
              resource: {
                resourceType: 'CarePlan',
                status: 'active',
                intent: 'plan',
                subject: { identifier: { system: BSN, value: f.bsn } },
              },
            },
          ],
        },
      },
    ]);
    const res = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/$exchange', body, {
      'accept-language': 'nl',
    });
    expect(res.status).toBe(403);
    const info = res.body.issue.filter((i) => i.severity === 'information');
    expect(info.map((i) => i.expression?.[0])).toEqual([other]);
    expect(info[0]!.diagnostics).toContain('niet van toepassing');
  });
});

describe('the covenants folder', () => {
  it('a folder that cannot be read stops the start with one configuration line', async () => {
    await expect(testSandbox({ covenantsDir: '/no/such/folder' })).rejects.toThrow(
      /^configuration: COVENANTS_DIR: .*no such file or directory/,
    );
  });
});

describe.each(ENGINES)('consent evidence required on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({ consentEvidencePolicy: 'required' }, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  const evidence = (by: string): Partial<Consent> => ({
    dateTime: new Date(Date.now() - 86_400_000).toISOString(),
    sourceAttachment: {
      contentType: 'application/pdf',
      title: 'Toestemmingsformulier',
      data: 'JVBERi0xLjQK',
    },
    verification: [
      { verified: true, verifiedWith: { reference: by }, verificationDate: new Date().toISOString() },
    ],
  });
  const ask = (body: Parameters) =>
    fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', body);

  it('a consent of a 13-year-old without her own signature does not count, and the decision says so', async () => {
    const f = await family(sandbox, cjg, 13);
    const parents = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.mother, f.father], [GP], ['CAREMGT'], evidence(f.mother)),
    );
    await record(sandbox, cjg, consentResource(f.child, [f.child], [GP], ['CAREMGT'], evidence(f.child)));
    const res = await ask(question(f.bsn, GP, 'CAREMGT'));
    expect(param(res.body, 'decision')?.valueCode).toBe('deny');
    expect(reasons(res.body)).toContain('consent-signatory-missing');
    const line = explanations(res.body).find((e) => e.consent === parents);
    expect(line?.outcome).toBe('not-counted');
    expect(line?.en).toContain('the young person');
    expect(line?.nl).toContain('de jongere');
  });

  it('a consent signed by everyone the age table requires, with its form and verification, permits', async () => {
    const f = await family(sandbox, cjg, 13);
    const all = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.child, f.mother, f.father], [GP], ['CAREMGT'], evidence(f.child)),
    );
    const res = await ask(question(f.bsn, GP, 'CAREMGT'));
    expect(param(res.body, 'decision')?.valueCode).toBe('permit');
    expect(
      res.body.parameter?.filter((p) => p.name === 'consent').map((p) => p.valueReference?.reference),
    ).toEqual([all]);
  });

  it('every explanation shows how the consent was recorded: its form and who verified it when', async () => {
    const f = await family(sandbox, cjg, 9);
    const signed = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.mother, f.father], [GP], ['CAREMGT'], evidence(f.mother)),
    );
    const { sourceAttachment: _form, verification: _check, ...bare } = evidence(f.mother);
    const phone = await record(
      sandbox,
      cjg,
      consentResource(f.child, [f.mother, f.father], [GP], ['CAREMGT'], bare),
    );
    const res = await ask(question(f.bsn, GP, 'CAREMGT'));
    const byConsent = new Map(explanations(res.body).map((e) => [e.consent, e]));
    expect(byConsent.get(signed)).toMatchObject({
      outcome: 'permit',
      form: 'attachment',
      verifiedBy: f.mother,
    });
    expect(byConsent.get(phone)).toMatchObject({
      outcome: 'not-counted',
      form: 'none',
      reason: 'consent-evidence-missing',
    });
  });

  it('a consent recorded by phone (no form) or not verified does not count under the policy', async () => {
    const f = await family(sandbox, cjg, 9);
    const { sourceAttachment: _form, ...phone } = evidence(f.mother);
    await record(sandbox, cjg, consentResource(f.child, [f.mother, f.father], [GP], ['CAREMGT'], phone));
    const res = await ask(question(f.bsn, GP, 'CAREMGT'));
    expect(reasons(res.body)).toEqual(['consent-missing', 'consent-evidence-missing']);
    const g = await family(sandbox, cjg, 9);
    await record(
      sandbox,
      cjg,
      consentResource(g.child, [g.mother, g.father], [GP], ['CAREMGT'], {
        ...evidence(g.mother),
        verification: [],
      }),
    );
    expect(reasons((await ask(question(g.bsn, GP, 'CAREMGT'))).body)).toEqual([
      'consent-missing',
      'consent-unverified',
    ]);
  });
});
