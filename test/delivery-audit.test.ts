// Every delivery, failure and cancellation is on record with the person and the exchange Task, so that a search by
// BSN shows whether an exchange was delivered.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, Task } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import { ENGINES, fhir, freshDatabase, sandboxToken, testSandbox, waitFor } from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const NOAH = '999910036';

describe.each(ENGINES)('delivery events name the person and the Task on %s', (engine) => {
  let sandbox: RunningSandbox;
  let db: Database;
  let drop: () => Promise<void>;
  let officer: string;
  let cjg: string;
  const exchange = async () => {
    const body = await readFile('docs/examples/exchange-noah-to-gp.json', 'utf8');
    const res = await fhir(sandbox.url, cjg, 'POST', '/fhir/$exchange', body);
    expect(res.status).toBe(202);
    const task = JSON.stringify(res.body).match(/Task\/([\w-]+)/)?.[1];
    expect(task).toBeTruthy();
    return task!;
  };
  const deliveryEvents = async (taskId: string) => {
    const res = await fhir<Bundle<AuditEvent>>(
      sandbox.url,
      officer,
      'GET',
      `/fhir/AuditEvent?subtype=delivery&patient:identifier=${BSN}|${NOAH}&_count=500`,
    );
    expect(res.status).toBe(200);
    return (res.body.entry ?? [])
      .map((e) => e.resource!)
      .filter((e) => e.entity?.some((x) => x.what?.reference === `Task/${taskId}`));
  };

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    sandbox = await testSandbox({}, db);
    officer = await sandboxToken(sandbox, 'privacy-officer');
    cjg = await sandboxToken(sandbox, 'cjg');
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('finds a delivered exchange by the child’s BSN, with the Task, the recipient and the purpose', async () => {
    const taskId = await exchange();
    const [event] = await waitFor(async () => {
      const events = await deliveryEvents(taskId);
      return events.length ? events : undefined;
    });
    expect(event!.outcome).toBe('0');
    const persons = event!.entity!.filter((e) => e.what?.identifier?.system === BSN);
    expect(persons.map((p) => p.what!.identifier!.value)).toEqual([NOAH]);
    expect(event!.agent.map((a) => a.who?.reference)).toContain('Organization/huisartsen-de-linde');
    expect(event!.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('CAREMGT');
  });

  it('finds a failed delivery by the child’s BSN', async () => {
    sandbox.agencies.setBehaviour('huisartsen-de-linde', 'error');
    const taskId = await exchange();
    await db.query(`UPDATE delivery_jobs SET deadline = now() - interval '1 second' WHERE task_id = $1`, [
      taskId,
    ]);
    const [event] = await waitFor(async () => {
      const events = (await deliveryEvents(taskId)).filter((e) => e.outcome !== '0');
      return events.length ? events : undefined;
    });
    expect(event!.outcome).toBe('8');
    const task = await fhir<Task>(sandbox.url, officer, 'GET', `/fhir/Task/${taskId}`);
    expect(task.body.status).toBe('failed');
  });
});
