// Audit log speed: appends per second with the hash chain (and signed checkpoints), and verification of a long log.
// BENCH_AUDIT_EVENTS sets the size of the verified log (default 200,000; the target is 1,000,000 in under 30 s);
// BENCH_DATABASE_URL verifies on PostgreSQL instead of PGlite.
import { buildAuditEvent } from '../src/audit/audit-event.js';
import { appendAudit, HASH_SQL, verifyChain } from '../src/audit/chain.js';
import { configureAuditSigning } from '../src/audit/signing.js';
import { loadGatewayKey } from '../src/gateway/auth.js';
import { openDatabase } from '../src/store/database.js';
import { bench, report } from './lib.js';

function sampleEvent(i: number): ReturnType<typeof buildAuditEvent> {
  return buildAuditEvent({
    subtype: i % 3 === 0 ? 'exchange' : 'read',
    outcome: i % 7 === 0 ? 'denied' : 'success',
    description: `Consent/c${i % 50} given by the mother (gezag) permits Organization/huisartsen-de-linde to receive data for purpose CAREMGT.`,
    requester: {
      org: 'Organization/cjg-venlo',
      clientId: 'sandbox-cjg',
      practitioner: { system: 'http://fhir.nl/fhir/NamingSystem/uzi-nr-pers', value: `9000${i % 100}` },
    },
    recipientOrg: 'Organization/huisartsen-de-linde',
    patient: { bsn: '999910036', reference: 'Patient/noah' },
    purpose: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
    consents: [`Consent/c${i % 50}`],
    details: { reason: ['consent-permits'], disclosed: ['care-plan', 'identification'] },
    recorded: new Date(Date.UTC(2026, 0, 1) + i * 1000),
  });
}

export async function run(): Promise<void> {
  const db = await openDatabase({ dataDir: 'memory://' });
  const key = await loadGatewayKey(db);
  configureAuditSigning(db, key, 1000);
  let i = 0;
  await bench(
    'audit append (hash chain, own transaction, PGlite)',
    () =>
      db.transaction((tx) => {
        const { event, index } = sampleEvent(i++);
        return appendAudit(tx, event, index);
      }),
    {
      iterations: 3000,
      warmup: 200,
    },
  );

  // How exchanges use it: the append is one statement inside a transaction that is open anyway.
  await db.transaction(async (tx) => {
    await bench(
      'audit append inside a running transaction (marginal cost)',
      () => {
        const { event, index } = sampleEvent(i++);
        return appendAudit(tx, event, index);
      },
      { iterations: 5000, warmup: 200 },
    ).then((r) => console.log(`  target >= 5,000 appends/s: ${r.perSecond >= 5000 ? 'met' : 'NOT met'}`));
  });
  if (process.env.BENCH_DATABASE_URL) {
    // Eight connections appending at once, each in its own transaction: they take turns on the chain head.
    const pgdb = await openDatabase({ databaseUrl: process.env.BENCH_DATABASE_URL });
    configureAuditSigning(pgdb, await loadGatewayKey(pgdb), 1000);
    const n = 4000;
    let next = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next++ < n) {
          await pgdb.transaction((tx) => {
            const { event, index } = sampleEvent(next);
            return appendAudit(tx, event, index);
          });
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    console.log(
      `${'audit append, 8 connections, own transactions (PostgreSQL)'.padEnd(58)} ${(n / seconds).toFixed(0).padStart(9)} /s`,
    );
    await pgdb.query('TRUNCATE audit_events, audit_checkpoints').catch(() => undefined);
    await pgdb.query(`UPDATE audit_chain_head SET seq = 0, hash = 'genesis' WHERE id = 1`);
    await pgdb.close();
  }

  // A long log, written directly (the chain computed here exactly as appendAudit does), then verified.
  const total = Number(process.env.BENCH_AUDIT_EVENTS ?? 200_000);
  const url = process.env.BENCH_DATABASE_URL;
  const engine = url ? 'PostgreSQL' : 'PGlite';
  const fresh = await openDatabase(url ? { databaseUrl: url } : { dataDir: 'memory://' });
  if (url) await fresh.query('TRUNCATE audit_events, audit_checkpoints').catch(() => undefined);
  // Contents first, then the chain computed inside the database in sequence order (as appends do, one by one).
  const t0 = performance.now();
  for (let start = 1; start <= total; start += 2000) {
    const rows: Record<string, unknown>[] = [];
    for (let seq = start; seq < Math.min(start + 2000, total + 1); seq++) {
      const { event, index } = sampleEvent(seq);
      rows.push({
        seq,
        id: `e${seq}`,
        recorded: event.recorded,
        action: index.action,
        subtype: index.subtype,
        outcome: index.outcome,
        patient: index.patient,
        content: { ...event, id: `e${seq}` },
      });
    }
    await fresh.query(
      `INSERT INTO audit_events (seq, id, recorded, action, subtype, outcome, patient, content, prev_hash, hash)
       SELECT seq, id, recorded, action, subtype, outcome, patient, content, '', ''
       FROM jsonb_to_recordset($1::jsonb) AS t(seq bigint, id text, recorded timestamptz, action text, subtype text, outcome text, patient text, content jsonb)`,
      [JSON.stringify(rows)],
    );
  }
  await fresh.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
  await fresh.exec(`DO $$
    DECLARE prev text := 'genesis'; r record; h text;
    BEGIN
      FOR r IN SELECT seq, content FROM audit_events ORDER BY seq LOOP
        h := ${HASH_SQL('prev', 'r.seq', 'r.content')};
        UPDATE audit_events SET prev_hash = prev, hash = h WHERE seq = r.seq;
        prev := h;
      END LOOP;
      UPDATE audit_chain_head SET seq = (SELECT max(seq) FROM audit_events), hash = prev WHERE id = 1;
    END $$`);
  await fresh.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
  console.log(
    `  (wrote ${total.toLocaleString('en')} chained events in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  for (const recompute of ['database', 'verifier'] as const) {
    const t1 = performance.now();
    const result = await verifyChain(fresh, { batchSize: 10_000, recompute });
    const seconds = (performance.now() - t1) / 1000;
    if (!result.valid) throw new Error(`the generated log did not verify: ${result.firstInvalid?.problem}`);
    report({
      name: `verify ${total.toLocaleString('en')} events (${engine}, hashes in the ${recompute})`,
      ops: total,
      perSecond: total / seconds,
      p50Ms: seconds * 1000,
      p99Ms: seconds * 1000,
    });
    const projected = 1_000_000 / (total / seconds);
    console.log(
      `  1,000,000 events at this rate: ${projected.toFixed(1)} s (target < 30 s: ${projected < 30 ? 'met' : 'NOT met'})`,
    );
  }
  await db.close();
  await fresh.close();
}
