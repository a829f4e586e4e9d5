// End to end on real parts: token → register family and consent → $exchange → the simulated agency received it → audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome, Parameters, Task } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  consentResource,
  ENGINES,
  exchangeParameters,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  param,
  parentResource,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
  waitFor,
} from './helpers.js';

const GP = 'Organization/huisartsen-de-linde';
const SCHOOL = 'Organization/school-de-wilgen';

function carePayload(bsn: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: 'urn:uuid:7d1c1a52-1111-4c1e-9d33-000000000001',
        resource: patientResource(bsn, isoDateYearsAgo(9)),
      },
      {
        fullUrl: 'urn:uuid:7d1c1a52-1111-4c1e-9d33-000000000002',
        resource: {
          resourceType: 'CarePlan',
          status: 'active',
          intent: 'plan',
          subject: { reference: 'urn:uuid:7d1c1a52-1111-4c1e-9d33-000000000001' },
          title: 'Gezinsplan',
        },
      },
    ],
  };
}

describe.each(ENGINES)('exchange end to end on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  let officer: string;
  const child = testBsn();
  const mother = testBsn();

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
    officer = await sandboxToken(sandbox, 'privacy-officer');
    // The CJG registers a nine-year-old, the mother with parental authority, and her consent for the GP.
    const patient = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(child, isoDateYearsAgo(9)),
    );
    expect(patient.status).toBe(201);
    const patientRef = `Patient/${patient.body.id as string}`;
    const parent = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(patientRef, mother, true),
    );
    expect(parent.status).toBe(201);
    const consent = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(patientRef, [`RelatedPerson/${parent.body.id as string}`], [GP], ['CAREMGT']),
    );
    expect(consent.status).toBe(201);
  });
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('delivers exactly the permitted Bundle to the GP and audits the exchange', async () => {
    const res = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(GP, child, 'CAREMGT', carePayload(child)),
    );
    expect(res.status).toBe(202);
    expect(param(res.body, 'decision')?.valueCode).toBe('permit');
    expect(param(res.body, 'basis')?.valueCode).toBe('consent');
    const delivered = param(res.body, 'delivered')?.resource as Bundle;
    const taskRef = param(res.body, 'exchange')!.valueReference!.reference!;

    const task = await waitFor(async () => {
      const t = await fhir<Task>(sandbox.url, cjg, 'GET', `/fhir/${taskRef}`);
      return t.body.status === 'completed' ? t.body : undefined;
    });
    expect(task.output?.find((o) => o.type.coding?.[0]?.code === 'attempts')?.valueInteger).toBe(1);

    const received = sandbox.agencies.received('huisartsen-de-linde');
    expect(received).toHaveLength(1);
    const { id: _assignedByRecipient, ...receivedBundle } = received[0]!;
    expect(receivedBundle).toEqual(delivered);
    expect(received[0]!.entry?.map((e) => e.resource?.resourceType)).toEqual(['Patient', 'CarePlan']);
    expect(sandbox.agencies.received('school-de-wilgen')).toHaveLength(0);

    const auditId = param(res.body, 'auditEvent')!.valueReference!.reference!;
    const event = await fhir<AuditEvent>(sandbox.url, officer, 'GET', `/fhir/${auditId}`);
    expect(event.status).toBe(200);
    expect(event.body.outcome).toBe('0');
    expect(event.body.agent?.some((a) => a.who?.reference === GP)).toBe(true);
    expect(event.body.entity?.some((e) => e.what?.identifier?.value === child)).toBe(true);
    expect(event.body.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('CAREMGT');
  });

  it('maps a native referral form sent as nativePayload, then decides and delivers it like any payload', async () => {
    const form = {
      referralId: `NATIVE-${child}`,
      referralDate: '2026-10-01',
      referrerName: 'M. Kusters',
      referrerAgency: 'CJG Venlo',
      reason: 'Zorgen over het gezin',
      lifeDomains: ['parenting', 'finances'],
      parents: [{ bsn: mother, relation: 'mother', parentalAuthority: true, familyName: 'Test' }],
      children: [{ bsn: child, sex: 'female', familyName: 'Test', birthDate: isoDateYearsAgo(9) }],
    };
    const before = sandbox.agencies.received('huisartsen-de-linde').length;
    const { parameter } = exchangeParameters(GP, child, 'CAREMGT', {
      resourceType: 'Bundle',
      type: 'collection',
    });
    const nativeExchange: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        ...parameter!.filter((p) => p.name !== 'payload'),
        { name: 'nativePayload', valueString: JSON.stringify(form) },
        { name: 'format', valueCode: 'cjg-referral' },
      ],
    };
    const res = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$exchange', nativeExchange);
    expect(res.status).toBe(202);
    const delivered = param(res.body, 'delivered')?.resource as Bundle;
    expect(delivered.entry!.some((e) => e.resource?.resourceType === 'Patient')).toBe(true);
    await waitFor(async () =>
      sandbox.agencies.received('huisartsen-de-linde').length > before ? true : undefined,
    );

    // A form with a wrong BSN check digit is refused before any decision, at its place in the form.
    const broken = { ...form, children: [{ ...form.children[0], bsn: '999999999' }] };
    const bad = await fhir<OperationOutcome>(sandbox.url, cjg, 'POST', '/fhir/$exchange', {
      ...nativeExchange,
      parameter: nativeExchange.parameter!.map((p) =>
        p.name === 'nativePayload' ? { name: 'nativePayload', valueString: JSON.stringify(broken) } : p,
      ),
    });
    expect(bad.status).toBe(422);
    expect(bad.body.issue![0]!.expression).toEqual(['Parameters.parameter[nativePayload].children[0].bsn']);
  });

  it('denies an exchange no consent covers with 403, delivers nothing, and still audits it', async () => {
    const before = sandbox.agencies.received('school-de-wilgen').length;
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(SCHOOL, child, 'CAREMGT', carePayload(child)),
    );
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue?.[0]?.code).toBe('forbidden');
    expect(res.body.issue?.[0]?.details?.coding?.[0]?.code).toBe('consent-missing');

    const log = await fhir<Bundle<AuditEvent>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/AuditEvent?patient:identifier=http://fhir.nl/fhir/NamingSystem/bsn|${child}&outcome=4&subtype=exchange`,
    );
    expect(log.status).toBe(200);
    const denied = log.body.entry?.map((e) => e.resource!) ?? [];
    expect(denied).toHaveLength(1);
    expect(denied[0]!.agent?.some((a) => a.who?.reference === SCHOOL)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(sandbox.agencies.received('school-de-wilgen')).toHaveLength(before);
  });

  it('keeps the audit chain valid across all of this', async () => {
    const res = await fhir<Parameters>(sandbox.url, officer, 'GET', '/fhir/AuditEvent/$verify');
    expect(res.status).toBe(200);
    expect(param(res.body, 'valid')?.valueBoolean).toBe(true);
    expect(param(res.body, 'count')?.valueInteger).toBeGreaterThan(5);
  });
});
