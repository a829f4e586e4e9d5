// Tamper evidence: alter, remove or insert audit rows directly in the database; $verify names the exact position.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Parameters } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import { ENGINES, fhir, freshDatabase, param, sandboxToken, testSandbox } from './helpers.js';

const question: Parameters = {
  resourceType: 'Parameters',
  parameter: [
    { name: 'recipient', valueReference: { reference: 'Organization/huisartsen-de-linde' } },
    {
      name: 'subject',
      valueIdentifier: { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910036' },
    },
    { name: 'purpose', valueCoding: { code: 'CAREMGT' } },
  ],
};

describe.each(ENGINES)('audit tamper evidence on %s', (engine) => {
  let sandbox: RunningSandbox;
  let db: Database;
  let drop: () => Promise<void>;
  let officer: string;
  const verify = async () => {
    const res = await fhir<Parameters>(sandbox.url, officer, 'GET', '/fhir/AuditEvent/$verify');
    const first = param(res.body, 'firstInvalid');
    return {
      valid: param(res.body, 'valid')?.valueBoolean,
      checkpoints: param(res.body, 'checkpoints')?.valueInteger ?? 0,
      seq: first?.part?.find((p) => p.name === 'sequence')?.valueInteger,
      problem: first?.part?.find((p) => p.name === 'problem')?.valueString,
    };
  };
  /** Runs SQL with the append-only trigger off, as an intruder with database access would. */
  const intrude = async (...statements: [string, unknown[]?][]) => {
    await db.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    try {
      for (const [sql, params] of statements) await db.query(sql, params ?? []);
    } finally {
      await db.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    }
  };

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    sandbox = await testSandbox({ auditCheckpointEvery: 5 }, db);
    officer = await sandboxToken(sandbox, 'privacy-officer');
    const cjg = await sandboxToken(sandbox, 'cjg');
    for (let i = 0; i < 12; i++) await fhir(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', question);
  });
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('reports an intact log as valid, with its signed checkpoints checked', async () => {
    const result = await verify();
    expect(result.valid).toBe(true);
    expect(result.checkpoints).toBeGreaterThanOrEqual(4);
  });

  it('finds a changed event at its exact position', async () => {
    const [original] = await db.query<{ content: string }>(
      'SELECT content::text AS content FROM audit_events WHERE link = 7',
    );
    await intrude([
      `UPDATE audit_events SET content = jsonb_set(content::jsonb, '{outcome}', '"4"') WHERE link = 7`,
    ]);
    expect(await verify()).toMatchObject({
      valid: false,
      seq: 7,
      problem: 'the content does not match its hash',
    });
    await intrude([`UPDATE audit_events SET content = $1::json WHERE link = 7`, [original!.content]]);
    expect((await verify()).valid).toBe(true);
  });

  it('finds a removed event at its exact position', async () => {
    const [row] = await db.query<Record<string, unknown>>(
      'SELECT *, content::text AS content FROM audit_events WHERE link = 9',
    );
    await intrude(['DELETE FROM audit_events WHERE link = 9']);
    expect(await verify()).toMatchObject({ valid: false, seq: 9 });
    const cols = Object.keys(row!);
    await intrude([
      `INSERT INTO audit_events (${cols.join(', ')}) VALUES (${cols.map((c, i) => (c === 'content' ? `$${i + 1}::json` : `$${i + 1}`)).join(', ')})`,
      cols.map((c) => row![c]),
    ]);
    expect((await verify()).valid).toBe(true);
  });

  it('finds an event inserted into the middle, even one whose own hash was computed correctly', async () => {
    const [before] = await db.query<{ hash: string; content: Record<string, unknown> }>(
      'SELECT hash, content FROM audit_events WHERE link = 4',
    );
    const { chainHash } = await import('../src/audit/chain.js');
    const forged = { ...before!.content, id: 'forged', outcomeDesc: 'inserted afterwards' };
    await intrude(
      ['UPDATE audit_events SET link = -link WHERE link >= 5'],
      ['UPDATE audit_events SET link = -link + 1 WHERE link < 0'],
      [
        `INSERT INTO audit_events (seq, chain, link, id, recorded, action, subtype, outcome, content, prev_hash, hash) VALUES (nextval('audit_events_seq'), 1, 5, 'forged', now(), 'E', 'read', 'success', $1::json, $2, $3)`,
        [JSON.stringify(forged), before!.hash, chainHash(before!.hash, 5, JSON.stringify(forged))],
      ],
    );
    const result = await verify();
    expect(result.valid).toBe(false);
    expect(result.seq).toBe(5);
    await intrude(
      ['DELETE FROM audit_events WHERE link = 5'],
      ['UPDATE audit_events SET link = -link WHERE link > 5'],
      ['UPDATE audit_events SET link = -link - 1 WHERE link < 0'],
    );
    expect((await verify()).valid).toBe(true);
  });

  it('rejects a checkpoint that the gateway did not sign', async () => {
    const [mark] = await db.query<{ seq: number; jws: string }>(
      'SELECT link::int AS seq, jws FROM audit_checkpoints ORDER BY link LIMIT 1',
    );
    const [h, p] = mark!.jws.split('.');
    await db.query('UPDATE audit_checkpoints SET jws = $1 WHERE link = $2', [
      `${h}.${p}.${'A'.repeat(86)}`,
      mark!.seq,
    ]);
    expect(await verify()).toMatchObject({
      valid: false,
      seq: mark!.seq,
      problem: 'the checkpoint signature is not valid',
    });
    await db.query('UPDATE audit_checkpoints SET jws = $1 WHERE link = $2', [mark!.jws, mark!.seq]);
    expect((await verify()).valid).toBe(true);
  });
});
