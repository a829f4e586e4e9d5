// Upgrading a log written by the release before migration 007 (records kept as jsonb): the records written then keep
// verifying after the column becomes json, new records chain on from them, and tampering is still found in both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuditEvent } from '../src/audit/audit-event.js';
import { auditBatch, verifyChain } from '../src/audit/chain.js';
import { appendAudits } from '../src/audit/log.js';
import { migrate, type Database } from '../src/store/database.js';
import { ENGINES, freshDatabase } from './helpers.js';

const items = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    buildAuditEvent({
      subtype: 'read',
      outcome: 'success',
      description: `Gelezen door de gemeente — event ${from + i} (ë, ü, 😀)`,
      requester: { org: 'Organization/gemeente-venlo', clientId: 'sandbox-gemeente' },
      patient: { bsn: '999910036', reference: 'Patient/noah' },
      purpose: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
      details: { reason: ['consent-permits'], disclosed: ['care-plan'] },
    }),
  );

describe.each(ENGINES)('audit log upgrade to json records on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine, { until: '006_audit_no_truncate.sql' }));
  });
  afterAll(() => drop());

  it('keeps the records written as jsonb verifiable and chains new ones after them', async () => {
    const [before] = await db.query<{ type: string }>(
      `SELECT data_type AS type FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name = 'content'`,
    );
    expect(before!.type).toBe('jsonb');
    // As the release before wrote them: the same batch, through the function that took it as jsonb.
    await db.transaction(async (tx) => {
      await tx.query('SELECT * FROM audit_append($1::jsonb, 1, null)', [auditBatch(items(1, 20)).rows]);
    });
    expect((await migrate(db))[0]).toBe('007_audit_json_content.sql');
    const [after] = await db.query<{ type: string }>(
      `SELECT data_type AS type FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name = 'content'`,
    );
    expect(after!.type).toBe('json');
    expect(await verifyChain(db)).toMatchObject({ valid: true, count: 20 });
    await db.transaction((tx) => appendAudits(tx, items(21, 20)));
    for (const recompute of ['database', 'verifier'] as const)
      expect(await verifyChain(db, { recompute })).toMatchObject({ valid: true, count: 40 });
    // New records are stored exactly as written: resourceType first, as the gateway serialised them.
    const [row] = await db.query<{ text: string }>(
      `SELECT content::text AS text FROM audit_events WHERE link = 21 AND chain = 1`,
    );
    expect(row!.text.startsWith('{"resourceType":"AuditEvent"')).toBe(true);
  });

  it('still finds an altered record among those written before and after the upgrade', async () => {
    await db.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    try {
      for (const link of [5, 30]) {
        const [row] = await db.query<{ text: string }>(
          'SELECT content::text AS text FROM audit_events WHERE chain = 1 AND link = $1',
          [link],
        );
        await db.query(
          `UPDATE audit_events SET content = replace(content::text, 'event', 'EVENT')::json WHERE chain = 1 AND link = $1`,
          [link],
        );
        for (const recompute of ['database', 'verifier'] as const)
          expect((await verifyChain(db, { recompute })).firstInvalid).toMatchObject({ chain: 1, seq: link });
        await db.query('UPDATE audit_events SET content = $2::json WHERE chain = 1 AND link = $1', [
          link,
          row!.text,
        ]);
      }
    } finally {
      await db.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    }
    expect((await verifyChain(db)).valid).toBe(true);
  });
});
