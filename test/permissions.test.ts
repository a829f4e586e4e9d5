// Patient/$permissions on both engines: who may receive what about a person now and until when, for the agency that
// arranged the consents, the officer, the young person from 12 and gezag holders; and a property: it names exactly the
// organisations and purposes that a round of $consent-decision calls permits.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consent, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { BASE_PURPOSES } from '../src/exchange/permissions.js';
import {
  consentResource,
  ENGINES,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  ORG,
  parentResource,
  patientResource,
  personToken,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const { GP, SCHOOL, YOUTH_CARE, MUNICIPALITY } = ORG;

const part = (p: ParametersParameter, name: string) => p.part?.filter((x) => x.name === name) ?? [];
const lines = (body: Parameters) =>
  (body.parameter ?? [])
    .filter((p) => p.name === 'permission')
    .map((p) => ({
      recipient: part(p, 'recipient')[0]?.valueReference?.reference,
      purpose: part(p, 'purpose')[0]?.valueCoding?.code,
      categories: part(p, 'category').map((c) => c.valueCoding?.code),
      consents: part(p, 'consent').map((c) => c.valueReference?.reference),
      until: part(p, 'until')[0]?.valueString,
    }));

interface Family {
  bsn: string;
  child: string;
  parents: string[];
  parentBsns: string[];
}

async function family(sandbox: RunningSandbox, token: string, age: number): Promise<Family> {
  const bsn = testBsn();
  const child = await fhir<{ id: string }>(
    sandbox.url,
    token,
    'POST',
    '/fhir/Patient',
    patientResource(bsn, isoDateYearsAgo(age, 20)),
  );
  const parents: string[] = [];
  const parentBsns: string[] = [];
  for (let i = 0; i < 2; i++) {
    const parentBsn = testBsn();
    const r = await fhir<{ id: string }>(
      sandbox.url,
      token,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(`Patient/${child.body.id}`, parentBsn, true),
    );
    parents.push(`RelatedPerson/${r.body.id}`);
    parentBsns.push(parentBsn);
  }
  return { bsn, child: `Patient/${child.body.id}`, parents, parentBsns };
}

describe.each(ENGINES)('Patient/$permissions on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  const overview = (bsn: string, token = cjg, accept = 'application/fhir+json') =>
    fhir<Parameters>(
      sandbox.url,
      token,
      'GET',
      `/fhir/Patient/$permissions?identifier=${BSN}|${bsn}`,
      undefined,
      { accept },
    );

  it('names each recipient and purpose the consents permit, the categories, the consents and until when', async () => {
    const f = await family(sandbox, cjg, 9);
    const gp = await fhir<Consent>(sandbox.url, cjg, 'POST', '/fhir/Consent', {
      ...consentResource(f.child, f.parents, [GP], ['CAREMGT']),
      provision: {
        ...consentResource(f.child, f.parents, [GP], ['CAREMGT']).provision,
        period: { start: '2025-01-01', end: '2030-06-30' },
      },
    });
    const school = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(f.child, f.parents, [SCHOOL], ['TREAT']),
    );
    const res = await overview(f.bsn);
    expect(res.status).toBe(200);
    const found = lines(res.body);
    expect(found.map((l) => `${l.recipient} ${l.purpose}`).sort()).toEqual([
      `${GP} CAREMGT`,
      `${SCHOOL} TREAT`,
    ]);
    const toGp = found.find((l) => l.recipient === GP)!;
    expect(toGp.consents).toEqual([`Consent/${gp.body.id}`]);
    expect(toGp.until).toBe('2030-06-30');
    expect(toGp.categories).toContain('care-plan');
    expect(toGp.categories).not.toContain('mental-health');
    expect(found.find((l) => l.recipient === SCHOOL)?.consents).toEqual([`Consent/${school.body.id}`]);
  });

  it('is a Dutch page with Accept: text/html', async () => {
    const f = await family(sandbox, cjg, 9);
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(f.child, f.parents, [GP], ['CAREMGT']),
    );
    const res = await fetch(`${sandbox.url}/fhir/Patient/$permissions?identifier=${BSN}|${f.bsn}`, {
      headers: { authorization: `Bearer ${cjg}`, accept: 'text/html' },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<h1>Wie mag welke gegevens ontvangen?</h1>');
    expect(html).toContain('Huisartsenpraktijk De Linde');
    expect(html).toContain('coördinatie van zorg (CAREMGT)');
    expect(html).toContain('tot intrekking');
  });

  it('the young person from 12 and a gezag holder of a child under 16 may see it; an agency that arranged nothing may not', async () => {
    const f = await family(sandbox, cjg, 13);
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(f.child, [f.child, ...f.parents], [GP], ['CAREMGT']),
    );
    expect((await overview(f.bsn, await personToken(sandbox, f.bsn))).status).toBe(200);
    const parent = await overview(f.bsn, await personToken(sandbox, f.parentBsns[0]!));
    expect(parent.status).toBe(200);
    expect(lines(parent.body).map((l) => l.recipient)).toEqual([GP]);
    expect((await overview(f.bsn, await personToken(sandbox, testBsn()))).status).toBe(403);
    expect((await overview(f.bsn, await sandboxToken(sandbox, 'gp'))).status).toBe(404);
    expect((await overview(f.bsn, await sandboxToken(sandbox, 'privacy-officer'))).status).toBe(200);
    expect((await overview(f.bsn, await sandboxToken(sandbox, 'research'))).status).toBe(403);
  });

  it('names exactly the recipients and purposes that $consent-decision permits (property over random consents)', async () => {
    const recipients = [GP, SCHOOL, YOUTH_CARE, MUNICIPALITY];
    const consentArb = fc.record({
      performers: fc.subarray(['mother', 'father', 'child'], { minLength: 1 }),
      actors: fc.subarray(recipients),
      purposes: fc.subarray(BASE_PURPOSES),
      type: fc.constantFrom('permit', 'permit', 'deny'),
      status: fc.constantFrom('active', 'active', 'active', 'inactive'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5, max: 17 }),
        fc.array(consentArb, { maxLength: 3 }),
        async (age, specs) => {
          const f = await family(sandbox, cjg, age);
          const who = { mother: f.parents[0]!, father: f.parents[1]!, child: f.child };
          for (const s of specs) {
            const c = consentResource(
              f.child,
              s.performers.map((p) => who[p as keyof typeof who]),
              s.actors,
              s.purposes,
              { status: s.status as Consent['status'] },
            );
            c.provision = { ...c.provision, type: s.type as 'permit' | 'deny' };
            const r = await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', c);
            expect(r.status).toBe(201);
          }
          const listed = new Set(
            lines((await overview(f.bsn)).body).map((l) => `${l.recipient} ${l.purpose}`),
          );
          const permitted = new Set<string>();
          const organisations =
            (
              await fhir<{ entry?: { resource: { id: string } }[] }>(
                sandbox.url,
                cjg,
                'GET',
                '/fhir/Organization?_count=100',
              )
            ).body.entry ?? [];
          for (const { resource } of organisations) {
            const recipient = `Organization/${resource.id}`;
            if (recipient === 'Organization/cjg-venlo') continue;
            for (const purpose of BASE_PURPOSES) {
              const res = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', {
                resourceType: 'Parameters',
                parameter: [
                  { name: 'recipient', valueReference: { reference: recipient } },
                  { name: 'subject', valueIdentifier: { system: BSN, value: f.bsn } },
                  {
                    name: 'purpose',
                    valueCoding: {
                      system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
                      code: purpose,
                    },
                  },
                ],
              });
              if (res.body.parameter?.find((p) => p.name === 'decision')?.valueCode === 'permit')
                permitted.add(`${recipient} ${purpose}`);
            }
          }
          expect([...listed].sort()).toEqual([...permitted].sort());
        },
      ),
      { numRuns: 6, seed: 20261130 },
    );
  }, 240_000);
});
