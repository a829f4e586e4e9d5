// The fact version (migration 014, src/store/fact-version.ts): moved once by every transaction that changes what a
// decision rests on, not by the gateway's own bookkeeping; read so that a caller sees every change committed before
// it asked, on both engines.
import type { Consent, Patient, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../src/store/database.js';
import { FactVersionReader } from '../src/store/fact-version.js';
import { BSN_SYSTEM, createResource, updateResource } from '../src/store/resources.js';
import { ENGINES, freshDatabase } from './helpers.js';

const ORG = 'Organization/cjg-rotterdam';

async function versionOf(db: Queryable): Promise<bigint> {
  const [row] = await db.query<{ version: string }>('SELECT version::text AS version FROM fact_version');
  return BigInt(row!.version);
}

const patient = (bsn: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: BSN_SYSTEM, value: bsn }],
  birthDate: '2015-03-01',
});

describe.each(ENGINES)('fact version on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
  });
  afterAll(async () => drop());

  it('moves once for a transaction that registers several persons, and not for a failed one', async () => {
    const before = await versionOf(db);
    await db.transaction(async (tx) => {
      await createResource(tx, patient('999911120'), ORG);
      await createResource(tx, patient('999911132'), ORG);
    });
    expect(await versionOf(db)).toBe(before + 1n);
    await expect(
      db.transaction(async (tx) => {
        await createResource(tx, patient('999911144'), ORG);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await versionOf(db)).toBe(before + 1n);
  });

  it('moves for a consent change and an open registration dispute, not for an exchange Task', async () => {
    const before = await versionOf(db);
    const consent = await db.transaction((tx) =>
      createResource<Consent>(
        tx,
        {
          resourceType: 'Consent',
          status: 'active',
          scope: { coding: [{ code: 'patient-privacy' }] },
          category: [{ coding: [{ code: '59284-0' }] }],
        },
        ORG,
      ),
    );
    expect(await versionOf(db)).toBe(before + 1n);
    await db.transaction((tx) =>
      updateResource<Consent>(tx, { ...consent, id: consent.id!, status: 'inactive' }),
    );
    expect(await versionOf(db)).toBe(before + 2n);
    const task: Task = { resourceType: 'Task', status: 'requested', intent: 'order' };
    await db.transaction((tx) => createResource(tx, task, ORG));
    expect(await versionOf(db)).toBe(before + 2n);
    await db.transaction((tx) =>
      createResource(tx, task, ORG, 'registration-conflict|birthDate|999911120|x'),
    );
    expect(await versionOf(db)).toBe(before + 3n);
  });

  it('gives every caller a read that started after it asked, sharing reads among callers that wait together', async () => {
    let reads = 0;
    const counting: Queryable = {
      query: async <T>(sql: string, params?: unknown[]) => {
        reads++;
        return db.query<T>(sql, params);
      },
    };
    const reader = new FactVersionReader(counting);
    const first = reader.current();
    // Committed after the first read started: the callers below must see it, the first need not.
    await db.transaction((tx) => createResource(tx, patient('999911156'), ORG));
    const expected = (await versionOf(db)).toString();
    const waiting = await Promise.all(Array.from({ length: 20 }, () => reader.current()));
    await first;
    expect(new Set(waiting)).toEqual(new Set([expected]));
    expect(reads).toBeLessThanOrEqual(3);
    expect(await reader.current()).toBe(expected);
  });
});
