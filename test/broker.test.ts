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
import { pino } from 'pino';
import { DeliveryWorker } from '../src/exchange/delivery.js';
import { SimulatedAgencies } from '../src/sandbox/agencies.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import {
  carePlanPayload,
  consentResource,
  ENGINES,
  exchangeParameters,
  fhir,
  freshDatabase,
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
      deliveryInProgressAfterMs: 1_500,
      agencyTimeoutMs: 8_000,
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

  it('commits concurrent exchanges together, answers each after its commit, and delivers each exactly once', async () => {
    const { bsn } = await consentingYoungPerson();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        fhir<Parameters>(
          sandbox.url,
          cjg,
          'POST',
          '/fhir/$exchange',
          exchangeParameters(GP, bsn, 'CAREMGT', payload(bsn)),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const taskIds = answers.map((a) => param(a.body, 'exchange')!.valueReference!.reference!.split('/')[1]!);
    const auditIds = answers.map(
      (a) => param(a.body, 'auditEvent')!.valueReference!.reference!.split('/')[1]!,
    );
    const identifiers = answers.map(
      (a) => (param(a.body, 'delivered')!.resource as Bundle).identifier!.value,
    );
    // Each 202 came after its Task, audit record and job were committed: all are there, in fewer commits than exchanges.
    const [tasks] = await sandbox.ctx.db.query<{ n: number; commits: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT xmin::text)::int AS commits FROM resource_history
       WHERE type = 'Task' AND version_id = 1 AND id = ANY($1::text[])`,
      [taskIds],
    );
    expect(tasks!.n).toBe(30);
    expect(tasks!.commits).toBeLessThan(30);
    const [audits] = await sandbox.ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM audit_events WHERE id = ANY($1::text[])',
      [auditIds],
    );
    expect(audits!.n).toBe(30);
    await waitFor(
      async () =>
        identifiers.every((id) => sandbox.agencies.received(GP_ID).some((b) => b.identifier?.value === id))
          ? true
          : undefined,
      15_000,
    );
    for (const id of identifiers)
      expect(sandbox.agencies.received(GP_ID).filter((b) => b.identifier?.value === id)).toHaveLength(1);
    for (const ref of taskIds) await waitStatus(`Task/${ref}`, 'completed');
  });

  it('shows a slow first delivery as in-progress, and takes a quick one from accepted straight to completed', async () => {
    const { bsn } = await consentingYoungPerson();
    const send = async () =>
      param(
        (
          await fhir<Parameters>(
            sandbox.url,
            cjg,
            'POST',
            '/fhir/$exchange',
            exchangeParameters(GP, bsn, 'CAREMGT', payload(bsn)),
          )
        ).body,
        'exchange',
      )!.valueReference!.reference!;
    const statuses = async (taskRef: string) =>
      (
        await sandbox.ctx.db.query<{ status: string }>(
          `SELECT content ->> 'status' AS status FROM resource_history WHERE type = 'Task' AND id = $1 ORDER BY version_id`,
          [taskRef.split('/')[1]],
        )
      ).map((r) => r.status);
    // The sandbox of this suite shows a first attempt as in-progress after 1.5 s (DELIVERY_IN_PROGRESS_AFTER_MS).
    sandbox.agencies.setDelay(GP_ID, 4_000);
    try {
      const slow = await send();
      await waitStatus(slow, 'in-progress', 3_900);
      await waitStatus(slow, 'completed');
      expect(await statuses(slow)).toEqual(['accepted', 'in-progress', 'completed']);
    } finally {
      sandbox.agencies.setDelay(GP_ID, 0);
    }
    const quick = await send();
    await waitStatus(quick, 'completed');
    expect(await statuses(quick)).toEqual(['accepted', 'completed']);
    // The delivery asks for return=minimal: the recipient's id of the Bundle comes from its Location header.
    const response = (await taskOf(quick)).output?.find(
      (o) => o.type.coding?.[0]?.code === 'recipient-response',
    )?.valueString;
    const storedId = /as Bundle\/([\w-]+)$/.exec(response ?? '')?.[1];
    expect(sandbox.agencies.received(GP_ID).some((b) => b.id === storedId)).toBe(true);
  });

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

/** How many rows of each table hold this text anywhere (every column, as the row's text). */
async function tablesHolding(db: Database, text: string): Promise<Record<string, number>> {
  const tables = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const found: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${name}" AS t WHERE t::text LIKE $1`,
      [`%${text}%`],
    );
    if (row!.n > 0) found[name] = row!.n;
  }
  return found;
}

describe.each(ENGINES)('payload lifetime and delivery leases on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({ deliveryRetryBaseMs: 50, deliveryRetryMaxMs: 400 }, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  async function consentingYoungPerson(): Promise<string> {
    const bsn = testBsn();
    const patient = await fhir<Patient>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, isoDateYearsAgo(17)),
    );
    const ref = `Patient/${patient.body.id}`;
    await fhir(sandbox.url, cjg, 'POST', '/fhir/Consent', consentResource(ref, [ref], [GP], ['CAREMGT']));
    return bsn;
  }

  it('leaves no payload text in any table once a delivery ends, also when the exchange came with an Idempotency-Key', async () => {
    const bsn = await consentingYoungPerson();
    const marker = `payload-marker-${testBsn()}-${Date.now()}`;
    const body = exchangeParameters(GP, bsn, 'CAREMGT', carePlanPayload(bsn, `Plan ${marker}`));
    const key = { 'Idempotency-Key': `at-rest-${bsn}` };
    const first = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$exchange', body, key);
    expect(first.status).toBe(202);
    const delivered = param(first.body, 'delivered')!.resource as Bundle;
    expect(JSON.stringify(delivered)).toContain(marker);
    const taskRef = param(first.body, 'exchange')!.valueReference!.reference!;
    await waitFor(async () => {
      const task = await fhir<Task>(sandbox.url, cjg, 'GET', `/fhir/${taskRef}`);
      return task.body.status === 'completed' ? true : undefined;
    });
    expect(sandbox.agencies.received(GP_ID).some((b) => JSON.stringify(b).includes(marker))).toBe(true);
    expect(await tablesHolding(sandbox.ctx.db, marker)).toEqual({});
    // A replay still answers with the decision, the Task and the AuditEvent, and names the Bundle it delivered.
    const replay = await fhir<Parameters>(sandbox.url, cjg, 'POST', '/fhir/$exchange', body, key);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(param(replay.body, 'decision')?.valueCode).toBe('permit');
    expect(param(replay.body, 'exchange')?.valueReference?.reference).toBe(taskRef);
    expect(param(replay.body, 'auditEvent')?.valueReference?.reference).toBe(
      param(first.body, 'auditEvent')?.valueReference?.reference,
    );
    expect(param(replay.body, 'delivered')).toEqual({
      name: 'delivered',
      valueReference: { type: 'Bundle', identifier: delivered.identifier },
    });
    expect(JSON.stringify(replay.body)).not.toContain(marker);
  });

  it("forgets a client's Idempotency-Keys past the window when it records a new one", async () => {
    const bsn = await consentingYoungPerson();
    await sandbox.ctx.db.query(
      `INSERT INTO idempotency_keys (client_id, key, body_hash, status, response, created_at)
       VALUES ('sandbox-cjg', $1, 'x', 403, '{"resourceType":"OperationOutcome"}', now() - interval '25 hours')`,
      [`expired-${bsn}`],
    );
    const res = await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(GP, bsn, 'CAREMGT', carePlanPayload(bsn)),
      { 'Idempotency-Key': `fresh-${bsn}` },
    );
    expect(res.status).toBe(202);
    const keys = await sandbox.ctx.db.query<{ key: string }>(
      `SELECT key FROM idempotency_keys WHERE key IN ($1, $2) ORDER BY key`,
      [`expired-${bsn}`, `fresh-${bsn}`],
    );
    expect(keys.map((k) => k.key)).toEqual([`fresh-${bsn}`]);
  });

  it('renews the lease of a job while its post is in flight, so that a second worker does not post it again', async () => {
    const bsn = await consentingYoungPerson();
    // Two workers with a lease much shorter than the recipient's answer; the recipient stores every post it gets.
    await sandbox.ctx.delivery.stop();
    const workers = [1, 2].map(
      () =>
        new DeliveryWorker(sandbox.ctx.db, pino({ level: 'silent' }), {
          pollMs: 30,
          retryBaseMs: 50,
          retryMaxMs: 400,
          timeoutMs: 5000,
          leaseMs: 300,
        }),
    );
    sandbox.agencies.setBehaviour(GP_ID, 'ignore-if-none-exist');
    sandbox.agencies.setDelay(GP_ID, 1500);
    const posts = sandbox.agencies.posts(GP_ID);
    try {
      const res = await fhir<Parameters>(
        sandbox.url,
        cjg,
        'POST',
        '/fhir/$exchange',
        exchangeParameters(GP, bsn, 'CAREMGT', carePlanPayload(bsn)),
      );
      expect(res.status).toBe(202);
      for (const w of workers) w.start();
      const taskRef = param(res.body, 'exchange')!.valueReference!.reference!;
      await waitFor(async () => {
        const task = await fhir<Task>(sandbox.url, cjg, 'GET', `/fhir/${taskRef}`);
        return task.body.status === 'completed' ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(sandbox.agencies.posts(GP_ID) - posts).toBe(1);
    } finally {
      sandbox.agencies.setBehaviour(GP_ID, 'ok');
      sandbox.agencies.setDelay(GP_ID, 0);
      await Promise.all(workers.map((w) => w.stop()));
      sandbox.ctx.delivery.start();
    }
  });
});
