// Audit log speed: appends per second with the hash chain (and signed checkpoints), and verification of a long log.
// BENCH_AUDIT_EVENTS sets the size of the verified log (default 200,000; the target is 1,000,000 in under 30 s);
// BENCH_DATABASE_URL verifies on PostgreSQL instead of PGlite.
import { buildAuditEvent } from '../src/audit/audit-event.js';
import { appendAudit, HASH_SQL, verifyChain } from '../src/audit/chain.js';
import { configureAuditSigning } from '../src/audit/signing.js';
import { loadGatewayKey } from '../src/gateway/auth.js';
import { openDatabase, type Database } from '../src/store/database.js';
import { AuditWriter } from '../src/audit/writer.js';
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

/** Many connections, each appending one event per transaction (or, as the reference, inserting it unchained). */
async function concurrently(
  name: string,
  db: Database,
  opts: { events: number; connections: number; chained?: boolean },
): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      while (next < opts.events) {
        const { event, index } = sampleEvent(next++);
        await db.transaction(async (tx) => {
          if (opts.chained === false)
            // The reference: the same row inserted without any chain, to show what the chain itself costs.
            await tx.query(
              `INSERT INTO audit_events (seq, chain, link, id, recorded, action, subtype, outcome, content, prev_hash, hash)
               VALUES (nextval('audit_events_seq'), 99, nextval('audit_events_seq'), gen_random_uuid()::text, $1, $2, $3, $4, $5::json, '', '')`,
              [event.recorded, index.action, index.subtype, index.outcome, JSON.stringify(event)],
            );
          else await appendAudit(tx, event, index);
        });
      }
    }),
  );
  const perSecond = opts.events / ((performance.now() - t) / 1000);
  console.log(`${name.padEnd(58)} ${perSecond.toFixed(0).padStart(9)} /s`);
  return perSecond;
}

/** As reads and searches record themselves: many requests at once, each waiting for its record's commit. */
async function throughWriter(name: string, db: Database, events: number): Promise<number> {
  const writer = new AuditWriter(db);
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next < events) await writer.append(sampleEvent(next++));
    }),
  );
  const perSecond = events / ((performance.now() - t) / 1000);
  console.log(`${name.padEnd(58)} ${perSecond.toFixed(0).padStart(9)} /s`);
  return perSecond;
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
    { iterations: 3000, warmup: 200 },
  );
  // How requests use it: the append is one statement inside a transaction that is open anyway.
  await db.transaction(async (tx) => {
    await bench(
      'audit append inside a running transaction (marginal cost)',
      () => {
        const { event, index } = sampleEvent(i++);
        return appendAudit(tx, event, index);
      },
      { iterations: 3000, warmup: 200 },
    );
  });
  await throughWriter('audit append, group commit, 100 concurrent readers (PGlite)', db, 20_000);
  console.log(`  (the embedded engine runs one transaction at a time; the target is for PostgreSQL, below)`);
  if (process.env.BENCH_DATABASE_URL) {
    // Ten connections appending at once: each transaction takes a free chain head, so writers do not queue on one.
    const pgdb = await openDatabase({ databaseUrl: process.env.BENCH_DATABASE_URL });
    configureAuditSigning(pgdb, await loadGatewayKey(pgdb), 1000, 8);
    const reset = async () => {
      // A benchmark's own database: the log is emptied with its append-only guard switched off for the moment.
      await pgdb.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate');
      await pgdb.query('TRUNCATE audit_events');
      await pgdb.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate');
      await pgdb.query('TRUNCATE audit_checkpoints');
      await pgdb.query(
        `UPDATE audit_chain_head SET link = 0, hash = CASE WHEN id = 1 THEN 'genesis' ELSE 'genesis/' || id END`,
      );
    };
    await reset();
    const plain = await concurrently('plain insert, no chain, 10 connections (PostgreSQL)', pgdb, {
      events: 6000,
      connections: 10,
      chained: false,
    });
    await reset();
    const own = await concurrently('audit append, 10 connections, own transactions (PG)', pgdb, {
      events: 6000,
      connections: 10,
    });
    console.log(
      `  the chain costs ${(100 * (1 - own / plain)).toFixed(0)}% against plain inserts (commit-bound)`,
    );
    const grouped = await throughWriter(
      'audit append, group commit, 100 concurrent readers (PG)',
      pgdb,
      40_000,
    );
    console.log(
      `  target >= 5,000 appends/s (PostgreSQL, group commit): ${grouped >= 5000 ? 'met' : 'NOT met'}`,
    );
    const check = await verifyChain(pgdb);
    console.log(
      `  the log written concurrently verifies: ${check.valid} (${check.count} events in ${check.chains} chains)`,
    );
    await reset();
    await pgdb.close();
  }

  // A long log, written directly (the chain computed here exactly as appendAudit does), then verified.
  const total = Number(process.env.BENCH_AUDIT_EVENTS ?? 200_000);
  const url = process.env.BENCH_DATABASE_URL;
  const engine = url ? 'PostgreSQL' : 'PGlite';
  const fresh = await openDatabase(url ? { databaseUrl: url } : { dataDir: 'memory://' });
  if (url) {
    await fresh.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate');
    await fresh.query('TRUNCATE audit_events, audit_checkpoints');
    await fresh.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate');
  }
  const CHAINS = 8; // as ten concurrent writers would leave it: the events spread over eight chains
  // Contents first, then the chain computed inside the database in sequence order (as appends do, one by one).
  const t0 = performance.now();
  for (let start = 1; start <= total; start += 2000) {
    const rows: Record<string, unknown>[] = [];
    for (let seq = start; seq < Math.min(start + 2000, total + 1); seq++) {
      const { event, index } = sampleEvent(seq);
      rows.push({
        seq,
        chain: ((seq - 1) % CHAINS) + 1,
        link: Math.floor((seq - 1) / CHAINS) + 1,
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
      `INSERT INTO audit_events (seq, chain, link, id, recorded, action, subtype, outcome, patient, content, prev_hash, hash)
       SELECT seq, chain, link, id, recorded, action, subtype, outcome, patient, content, '', ''
       FROM json_to_recordset($1::json) AS t(seq bigint, chain int, link bigint, id text, recorded timestamptz, action text, subtype text, outcome text, patient text, content json)`,
      [JSON.stringify(rows)],
    );
  }
  await fresh.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
  await fresh.exec(`DO $$
    DECLARE prev text; r record; h text; c int;
    BEGIN
      UPDATE audit_chain_head SET link = 0, hash = CASE WHEN id = 1 THEN 'genesis' ELSE 'genesis/' || id END;
      FOR c IN 1..${CHAINS} LOOP
        prev := CASE WHEN c = 1 THEN 'genesis' ELSE 'genesis/' || c END;
        FOR r IN SELECT link, content FROM audit_events WHERE chain = c ORDER BY link LOOP
          h := ${HASH_SQL('prev', 'r.link', 'r.content')};
          UPDATE audit_events SET prev_hash = prev, hash = h WHERE chain = c AND link = r.link;
          prev := h;
        END LOOP;
        UPDATE audit_chain_head SET link = (SELECT coalesce(max(link), 0) FROM audit_events WHERE chain = c), hash = prev WHERE id = c;
      END LOOP;
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
