// GET /fhir/Consent/{id}/_history on both engines: every version newest first, for the registering organisation and
// the privacy officer only; and the console's side-by-side diff of two versions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, Consent } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { diffVersions, flatten } from '../console/consent-history.js';
import {
  consentResource,
  ENGINES,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  parentResource,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';

describe.each(ENGINES)('consent history on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  let consentId: string;
  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
    const child = await fhir<{ id: string }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), isoDateYearsAgo(8)),
    );
    const mother = await fhir<{ id: string }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(`Patient/${child.body.id}`, testBsn(), true),
    );
    const consent = consentResource(
      `Patient/${child.body.id}`,
      [`RelatedPerson/${mother.body.id}`],
      ['Organization/huisartsen-de-linde'],
      ['CAREMGT'],
    );
    const created = await fhir<Consent>(sandbox.url, cjg, 'POST', '/fhir/Consent', consent);
    expect(created.status).toBe(201);
    consentId = created.body.id!;
    // The parents add the school; later the consent is withdrawn.
    const revised: Consent = {
      ...created.body,
      provision: {
        ...created.body.provision,
        actor: [
          ...(created.body.provision?.actor ?? []),
          { role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/school-de-wilgen' } },
        ],
      },
    };
    const put = await fhir(sandbox.url, cjg, 'PUT', `/fhir/Consent/${consentId}`, revised, {
      'if-match': 'W/"1"',
    });
    expect(put.status).toBe(200);
    const withdrawn = await fhir(sandbox.url, cjg, 'POST', `/fhir/Consent/${consentId}/$withdraw`, {});
    expect(withdrawn.status).toBe(200);
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('the registering organisation reads every version, newest first, as a history Bundle', async () => {
    const res = await fhir<Bundle<Consent>>(sandbox.url, cjg, 'GET', `/fhir/Consent/${consentId}/_history`);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('history');
    expect(res.body.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['3', '2', '1']);
    expect(res.body.entry?.map((e) => e.resource?.status)).toEqual(['inactive', 'active', 'active']);
    expect(res.body.entry?.map((e) => e.request?.method)).toEqual(['PUT', 'PUT', 'POST']);
    expect(res.body.entry?.[1]?.resource?.provision?.actor).toHaveLength(2);
  });

  it('the privacy officer reads it too, and the read is audited', async () => {
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    const res = await fhir<Bundle>(sandbox.url, officer, 'GET', `/fhir/Consent/${consentId}/_history`);
    expect(res.status).toBe(200);
    const log = await fhir<Bundle<AuditEvent>>(sandbox.url, officer, 'GET', '/fhir/AuditEvent?_count=50');
    const descriptions = (log.body.entry ?? []).map((e) => e.resource?.outcomeDesc ?? '');
    expect(descriptions).toContain(`Consent/${consentId} history read`);
  });

  it('another agency gets 404 (the consent does not exist for it) and research is refused', async () => {
    const gp = await sandboxToken(sandbox, 'gp');
    expect((await fhir(sandbox.url, gp, 'GET', `/fhir/Consent/${consentId}/_history`)).status).toBe(404);
    const research = await sandboxToken(sandbox, 'research');
    expect((await fhir(sandbox.url, research, 'GET', `/fhir/Consent/${consentId}/_history`)).status).toBe(
      403,
    );
    expect((await fhir(sandbox.url, cjg, 'GET', '/fhir/Consent/unknown-id/_history')).status).toBe(404);
  });

  it('the console diff names what changed between two versions', async () => {
    const res = await fhir<Bundle<Consent>>(sandbox.url, cjg, 'GET', `/fhir/Consent/${consentId}/_history`);
    const [v3, v2, v1] = (res.body.entry ?? []).map((e) => e.resource);
    expect(diffVersions(v2, v3).find((d) => d.path === 'status')).toEqual({
      path: 'status',
      before: 'active',
      after: 'inactive',
      change: 'changed',
    });
    const added = diffVersions(v1, v2)
      .filter((d) => d.change === 'added')
      .map((d) => d.after);
    expect(added).toContain('Organization/school-de-wilgen');
    expect([...flatten(v3).keys()]).not.toContain('meta.versionId');
  });
});
