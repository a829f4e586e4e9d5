// Audit log speed: appends per second with the hash chain (and signed checkpoints), and verification of a long log.
// BENCH_DATABASE_URL adds the PostgreSQL runs and verifies there instead of on PGlite; BENCH_AUDIT_EVENTS sets the size
// of the verified log (default 1,000,000 on PostgreSQL, the target being under 30 s; 200,000 on PGlite).
import { buildAuditEvent } from '../src/audit/audit-event.js';
import { chainHash, genesis, MAX_AUDIT_CHAINS, verifyChain } from '../src/audit/chain.js';
import { appendAudit, AuditLog } from '../src/audit/log.js';
import { loadGatewayKey } from '../src/auth/auth.js';
import type { Database } from '../src/store/database.js';
import { openDatabase } from '../src/store/open.js';
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

/**
 * Empties the log of a benchmark's own database (its append-only guard switched off for the moment) and sets every
 * chain back to its genesis.
 */
async function emptyLog(db: Database): Promise<void> {
  await db.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate');
  await db.query('TRUNCATE audit_events, audit_checkpoints');
  await db.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate');
  await db.query(
    `UPDATE audit_chain_head SET link = 0, hash = CASE WHEN id = 1 THEN 'genesis' ELSE 'genesis/' || id END`,
  );
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
  const opened = await openDatabase({ dataDir: 'memory://' });
  const key = await loadGatewayKey(opened);
  const db = opened.withServices(new AuditLog({ checkpoints: { every: 1000, key } }));
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
    const pgOpened = await openDatabase({ databaseUrl: process.env.BENCH_DATABASE_URL });
    const pgdb = pgOpened.withServices(
      new AuditLog({ chains: 8, checkpoints: { every: 1000, key: await loadGatewayKey(pgOpened) } }),
    );
    const reset = () => emptyLog(pgdb);
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
  const url = process.env.BENCH_DATABASE_URL;
  const total = Number(process.env.BENCH_AUDIT_EVENTS ?? (url ? 1_000_000 : 200_000));
  const engine = url ? 'PostgreSQL' : 'PGlite';
  const fresh = await openDatabase(url ? { databaseUrl: url } : { dataDir: 'memory://' });
  if (url) await emptyLog(fresh);
  const CHAINS = 8; // as ten concurrent writers would leave it: the events spread over eight chains
  // Written directly, the chain computed here over each record's JSON text exactly as audit_append computes it in the
  // database, so verification also checks that the two agree.
  const t0 = performance.now();
  const prev = Array.from({ length: CHAINS }, (_, c) => genesis(c + 1));
  for (let start = 1; start <= total; start += 2000) {
    const rows: Record<string, unknown>[] = [];
    for (let seq = start; seq < Math.min(start + 2000, total + 1); seq++) {
      const { event, index } = sampleEvent(seq);
      const chain = ((seq - 1) % CHAINS) + 1;
      const link = Math.floor((seq - 1) / CHAINS) + 1;
      const content = { ...event, id: `e${seq}` };
      const hash = chainHash(prev[chain - 1]!, link, JSON.stringify(content));
      rows.push({
        seq,
        chain,
        link,
        id: `e${seq}`,
        recorded: event.recorded,
        action: index.action,
        subtype: index.subtype,
        outcome: index.outcome,
        patient: index.patient,
        content,
        prev_hash: prev[chain - 1],
        hash,
      });
      prev[chain - 1] = hash;
    }
    await fresh.query(
      `INSERT INTO audit_events (seq, chain, link, id, recorded, action, subtype, outcome, patient, content, prev_hash, hash)
       SELECT seq, chain, link, id, recorded, action, subtype, outcome, patient, content, prev_hash, hash
       FROM json_to_recordset($1::json) AS t(seq bigint, chain int, link bigint, id text, recorded timestamptz, action text,
         subtype text, outcome text, patient text, content json, prev_hash text, hash text)`,
      [JSON.stringify(rows)],
    );
    if ((start - 1) % 100_000 === 0 && start > 1)
      process.stdout.write(`  (writing the log: ${start - 1} events)\r`);
  }
  await fresh.query(`SELECT setval('audit_events_seq', $1)`, [total]);
  for (let c = 1; c <= MAX_AUDIT_CHAINS; c++)
    await fresh.query('UPDATE audit_chain_head SET link = $2, hash = $3 WHERE id = $1', [
      c,
      c <= CHAINS ? Math.floor((total - c) / CHAINS) + 1 : 0,
      c <= CHAINS ? prev[c - 1] : genesis(c),
    ]);
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
    const met = `target < 30 s: ${projected < 30 ? 'met' : 'NOT met'}`;
    console.log(
      total === 1_000_000
        ? `  1,000,000 events in ${seconds.toFixed(1)} s (${met})`
        : `  1,000,000 events at this rate: ${projected.toFixed(1)} s (${met})`,
    );
  }
  // Leave the benchmark database as an empty log again: its rows were written with positions and sequence numbers of
  // their own, past the sequence that appends draw from.
  if (url) await emptyLog(fresh);
  await db.close();
  await fresh.close();
}
