// Brokering in one process over real sockets: idempotency, withdrawal before delivery, re-checks, retries and deadlines.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Bundle,
  Communication,
  Consent,
  OperationOutcome,
  Parameters,
  Patient,
  Task,
} from '@medplum/fhirtypes';
import { SimulatedAgencies } from '../src/sandbox/agencies.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  carePlanPayload,
  consentResource,
  exchangeParameters,
  fhir,
  isoDateYearsAgo,
  param,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
  waitFor,
} from './helpers.js';

const GP = 'Organization/huisartsen-de-linde';
const GP_ID = 'huisartsen-de-linde';

describe('brokering', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  let admin: string;
  beforeAll(async () => {
    sandbox = await testSandbox({
      deliveryRetryBaseMs: 50,
      deliveryRetryMaxMs: 400,
      deliveryDeadlineMs: 60_000,
    });
    cjg = await sandboxToken(sandbox, 'cjg');
    admin = await sandboxToken(sandbox, 'admin');
  });
  afterAll(() => sandbox.close());

  /** A 17-year-old who consented herself to the GP for care management; returns her BSN and Consent id. */
  async function consentingYoungPerson(): Promise<{ bsn: string; consentId: string; consent: Consent }> {
    const bsn = testBsn();
    const patient = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(17)),
    );
    const ref = `Patient/${patient.body.id}`;
    const consent = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(ref, [ref], [GP], ['CAREMGT']),
    );
    return { bsn, consentId: consent.body.id!, consent: consent.body };
  }
  const payload = (bsn: string): Bundle => carePlanPayload(bsn);
  const taskOf = async (taskRef: string) =>
    (await fhir<Task>(sandbox.url, cjg, 'GET', `/fhir/${taskRef}`)).body;
  const waitStatus = (taskRef: string, status: Task['status'], ms = 15_000) =>
    waitFor(async () => ((await taskOf(taskRef)).status === status ? true : undefined), ms);

  it('answers a repeated Idempotency-Key with the first answer and delivers once; another body is a conflict', async () => {
    const { bsn } = await consentingYoungPerson();
    const body = exchangeParameters(GP, bsn, 'CAREMGT', payload(bsn));
    const before = sandbox.agencies.received(GP_ID).length;
    const key = { 'Idempotency-Key': `key-${bsn}` };
    const [a, b] = await Promise.all([
      fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$exchange', body, key),
      fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$exchange', body, key),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(param(b.body, 'exchange')?.valueReference?.reference).toBe(
      param(a.body, 'exchange')?.valueReference?.reference,
    );
    const again = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$exchange', body, key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await waitStatus(param(a.body, 'exchange')!.valueReference!.reference!, 'completed');
    await new Promise((r) => setTimeout(r, 300));
    expect(sandbox.agencies.received(GP_ID).length).toBe(before + 1);
    const other = await fhir<OperationOutcome>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(GP, bsn, 'TREAT', payload(bsn)),
      key,
    );
    expect(other.status).toBe(409);
  });

  it('cancels a queued exchange when its consent is withdrawn before delivery, and delivers nothing', async () => {
    const { bsn, consentId } = await consentingYoungPerson();
    sandbox.agencies.setBehaviour(GP_ID, 'error');
    try {
      const res = await fhir<Parameters>(
        sandbox.url,
        cjg,
        'POST',
        '/fhir/$exchange',
        exchangeParameters(GP, bsn, 'CAREMGT', payload(bsn)),
      );
      expect(res.status).toBe(202);
      const taskRef = param(res.body, 'exchange')!.valueReference!.reference!;
      const identifier = (param(res.body, 'delivered')!.resource as Bundle).identifier!.value;
      await waitStatus(taskRef, 'in-progress');
      expect((await fhir(sandbox.url, cjg, 'POST', `/fhir/Consent/${consentId}/$withdraw`)).status).toBe(200);
      expect((await taskOf(taskRef)).status).toBe('cancelled');
      sandbox.agencies.setBehaviour(GP_ID, 'ok');
      await new Promise((r) => setTimeout(r, 800));
      expect(sandbox.agencies.received(GP_ID).some((b) => b.identifier?.value === identifier)).toBe(false);
      const [job] = await sandbox.ctx.db.query<{ status: string; bundle: unknown }>(
        'SELECT status, bundle FROM delivery_jobs WHERE task_id = $1',
        [taskRef.split('/')[1]],
      );
      expect(job).toEqual({ status: 'cancelled', bundle: null });
      const notices = await fhir<Bundle<Communication>>(
        sandbox.url,
        cjg,
        'GET',
        `/fhir/Communication?about=${taskRef}`,
      );
      expect(notices.body.total).toBe(1);
    } finally {
      sandbox.agencies.setBehaviour(GP_ID, 'ok');
    }
  });

  it('re-checks the decision at send time: a consent made inactive otherwise still stops the delivery', async () => {
    const { bsn, consentId, consent } = await consentingYoungPerson();
    sandbox.agencies.setBehaviour(GP_ID, 'error');
    try {
      const res = await fhir<Parameters>(
        sandbox.url,
        cjg,
        'POST',
        '/fhir/$exchange',
        exchangeParameters(GP, bsn, 'CAREMGT', payload(bsn)),
      );
      const taskRef = param(res.body, 'exchange')!.valueReference!.reference!;
      await waitStatus(taskRef, 'in-progress');
      const put = await fhir(sandbox.url, cjg, 'PUT', `/fhir/Consent/${consentId}`, {
        ...consent,
        status: 'inactive',
      });
      expect(put.status).toBe(200);
      sandbox.agencies.setBehaviour(GP_ID, 'ok');
      await waitStatus(taskRef, 'cancelled');
      expect((await taskOf(taskRef)).statusReason?.text).toMatch(/no longer permitted/);
    } finally {
      sandbox.agencies.setBehaviour(GP_ID, 'ok');
    }
  });

  it('retries a recipient that answers 500, or does not answer, and marks the Task failed at the deadline, telling the sender', async () => {
    const short = await testSandbox({
      deliveryRetryBaseMs: 50,
      deliveryRetryMaxMs: 200,
      deliveryDeadlineMs: 1500,
      agencyTimeoutMs: 300,
    });
    try {
      const token = await sandboxToken(short, 'cjg');
      const bsn = testBsn();
      const patient = await fhir<Patient>(
        short.url,
        token,
        'POST',
        '/fhir/Patient',
        patientResource(bsn, isoDateYearsAgo(17)),
      );
      const ref = `Patient/${patient.body.id}`;
      await fhir(short.url, token, 'POST', '/fhir/Consent', consentResource(ref, [ref], [GP], ['CAREMGT']));
      short.agencies.setBehaviour(GP_ID, 'error');
      const res = await fhir<Parameters>(
        short.url,
        token,
        'POST',
        '/fhir/$exchange',
        exchangeParameters(GP, bsn, 'CAREMGT', payload(bsn)),
      );
      const taskRef = param(res.body, 'exchange')!.valueReference!.reference!;
      const task = await waitFor(async () => {
        const t = (await fhir<Task>(short.url, token, 'GET', `/fhir/${taskRef}`)).body;
        return t.status === 'failed' ? t : undefined;
      }, 10_000);
      expect(task.output?.find((o) => o.type.coding?.[0]?.code === 'attempts')?.valueInteger).toBeGreaterThan(
        2,
      );
      expect(task.output?.find((o) => o.type.coding?.[0]?.code === 'recipient-response')?.valueString).toBe(
        'HTTP 500 from the recipient',
      );
      expect(short.agencies.posts(GP_ID)).toBeGreaterThan(2);
      const notices = await fhir<Bundle<Communication>>(
        short.url,
        token,
        'GET',
        `/fhir/Communication?about=${taskRef}`,
      );
      expect(notices.body.entry?.[0]?.resource?.payload?.[0]?.contentString).toMatch(/failed after/);
      const [job] = await short.ctx.db.query<{ bundle: unknown }>(
        'SELECT bundle FROM delivery_jobs WHERE task_id = $1',
        [taskRef.split('/')[1]],
      );
      expect(job!.bundle).toBeNull();
      // A recipient that does not answer at all: each attempt times out, then the Task fails the same way.
      short.agencies.setBehaviour(GP_ID, 'timeout');
      const silent = await fhir<Parameters>(
        short.url,
        token,
        'POST',
        '/fhir/$exchange',
        exchangeParameters(GP, bsn, 'CAREMGT', payload(bsn)),
      );
      const silentRef = param(silent.body, 'exchange')!.valueReference!.reference!;
      const timedOut = await waitFor(async () => {
        const t = (await fhir<Task>(short.url, token, 'GET', `/fhir/${silentRef}`)).body;
        return t.status === 'failed' ? t : undefined;
      }, 10_000);
      expect(
        timedOut.output?.find((o) => o.type.coding?.[0]?.code === 'recipient-response')?.valueString,
      ).toBe('the recipient did not answer in time');
    } finally {
      await short.close();
    }
  });

  it('keeps trying a recipient that is down for 30 seconds and delivers once it is back', async () => {
    // A recipient on its own port: closed at first, listening again after 30 s.
    const agencies = new SimulatedAgencies(['late-agency']);
    const app = express().use('/agencies', agencies.router());
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const org = await fhir<{ id: string }>(sandbox.url, admin, 'POST', '/fhir/Organization', {
      resourceType: 'Organization',
      name: 'Late agency',
      type: [
        { coding: [{ system: 'https://ketenpoort.nl/fhir/CodeSystem/agency-role', code: 'youth-care' }] },
      ],
    });
    const orgRef = `Organization/${org.body.id}`;
    await fhir(sandbox.url, admin, 'POST', '/fhir/Endpoint', {
      resourceType: 'Endpoint',
      status: 'active',
      connectionType: { code: 'hl7-fhir-rest' },
      managingOrganization: { reference: orgRef },
      payloadType: [{ text: 'Bundle' }],
      address: `http://127.0.0.1:${port}/agencies/late-agency/fhir`,
    });
    const bsn = testBsn();
    const patient = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(17)),
    );
    const ref = `Patient/${patient.body.id}`;
    await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', consentResource(ref, [ref], [orgRef], ['CAREMGT']));
    const res = await fhir<Parameters>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(orgRef, bsn, 'CAREMGT', payload(bsn)),
    );
    const taskRef = param(res.body, 'exchange')!.valueReference!.reference!;
    let server: Server | undefined;
    try {
      await new Promise((r) => setTimeout(r, 30_000));
      expect((await taskOf(taskRef)).status).toBe('in-progress');
      server = await new Promise<Server>((r) => {
        const s = app.listen(port, '127.0.0.1', () => r(s));
      });
      await waitStatus(taskRef, 'completed', 10_000);
      expect(agencies.received('late-agency')).toHaveLength(1);
    } finally {
      server?.closeAllConnections();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    }
  }, 60_000);
});
