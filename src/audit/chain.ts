// The hash-chained audit log: append inside the caller's transaction, verify from the start.
import { createHash, randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';

/** Columns that audit searches filter on; they are copied out of the AuditEvent, which stays the record. */
export interface AuditIndex {
  action: string;
  subtype: string;
  outcome: string;
  patient?: string;
  agentOrg?: string;
  recipientOrg?: string;
  purpose?: string;
  legalBasis?: string;
}

export interface CheckpointPayload {
  seq: number;
  hash: string;
  at: string;
  kind: 'periodic' | 'prune';
}

export async function writeCheckpoint(
  tx: Queryable,
  seq: number,
  hash: string,
  kind: CheckpointPayload['kind'],
): Promise<void> {
  const settings = tx.context?.auditCheckpoints;
  if (!settings) throw new Error('audit checkpoints are not configured for this database');
  const jws = await settings.sign({ seq, hash, at: new Date().toISOString(), kind });
  await tx.query(
    'INSERT INTO audit_checkpoints (seq, hash, jws, kind) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING',
    [seq, hash, jws, kind],
  );
}

/**
 * The hash of an event: sha256 over "prev_hash \n seq \n content", where content is PostgreSQL's own text of the
 * stored jsonb (keys in jsonb order). The database computes it on insert; a verifier recomputes it from
 * `content::text` without parsing or re-serialising the event, which keeps verification of long logs fast.
 */
export const HASH_SQL = (prev: string, seq: string, content: string) =>
  `pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(${prev} || E'\\n' || (${seq})::text || E'\\n' || (${content})::text, 'UTF8')), 'hex')`;

export function chainHash(prevHash: string, seq: number, contentText: string): string {
  return createHash('sha256').update(`${prevHash}\n${seq}\n${contentText}`).digest('hex');
}

/**
 * Appends one AuditEvent. The chain head row is locked for the rest of the caller's transaction, so concurrent
 * writers (threads or processes) take turns and the chain stays one line; the event commits or rolls back
 * together with whatever else the transaction wrote.
 */
export async function appendAudit(tx: Queryable, event: AuditEvent, index: AuditIndex): Promise<AuditEvent> {
  const stored: AuditEvent = { ...event, id: event.id ?? randomUUID() };
  // One statement: lock the head, insert the event with its hash, move the head. The row lock on the head is held
  // until the caller's transaction ends, so appends from any number of connections take turns.
  const rows = await tx.query<{ seq: number; hash: string }>(
    `WITH head AS (SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE),
     ins AS (
       INSERT INTO audit_events (seq, id, recorded, action, subtype, outcome, patient, agent_org, recipient_org, purpose, legal_basis, content, prev_hash, hash)
       SELECT head.seq + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, head.hash, ${HASH_SQL('head.hash', 'head.seq + 1', '$11::jsonb')}
       FROM head
       RETURNING seq, hash
     )
     UPDATE audit_chain_head SET seq = ins.seq, hash = ins.hash FROM ins WHERE audit_chain_head.id = 1
     RETURNING ins.seq::int AS seq, ins.hash AS hash`,
    [
      stored.id,
      stored.recorded,
      index.action,
      index.subtype,
      index.outcome,
      index.patient ?? null,
      index.agentOrg ?? null,
      index.recipientOrg ?? null,
      index.purpose ?? null,
      index.legalBasis ?? null,
      JSON.stringify(stored),
    ],
  );
  const appended = rows[0];
  if (!appended) throw new Error('audit chain head missing');
  const every = tx.context?.auditCheckpoints?.every;
  if (every && appended.seq % every === 0) await writeCheckpoint(tx, appended.seq, appended.hash, 'periodic');
  return stored;
}

export interface VerifyResult {
  valid: boolean;
  count: number;
  /** Signed checkpoints whose signature and hash were checked. */
  checkpoints: number;
  /** Where the verified chain starts (after a documented prune), 1 otherwise. */
  from: number;
  /** The first event that does not fit the chain: its sequence number, id and what is wrong. */
  firstInvalid?: { seq: number; id: string; problem: string };
}

/** Verifies a checkpoint's JWS and returns its payload; throws when the signature is not the gateway's. */
export type CheckpointVerifier = (jws: string) => Promise<CheckpointPayload>;

/**
 * Walks the chain in order of sequence number and recomputes every hash; checks each signed checkpoint against
 * the chain. After a prune the walk starts from the signed prune checkpoint, so the remaining log stays verifiable.
 */
export async function verifyChain(
  db: Queryable,
  opts: {
    onProgress?: (checked: number, total: number) => void;
    batchSize?: number;
    verifyCheckpoint?: CheckpointVerifier;
    /**
     * 'database' (default) has PostgreSQL recompute each hash next to the row and send only the verdict: fast, and
     * sound against altered rows. 'verifier' fetches every event and recomputes its hash here, independently of the
     * database's functions.
     */
    recompute?: 'database' | 'verifier';
  } = {},
): Promise<VerifyResult> {
  const batchSize = opts.batchSize ?? 5000;
  const head = (
    await db.query<{ seq: number; hash: string }>(
      'SELECT seq::int AS seq, hash FROM audit_chain_head WHERE id = 1',
    )
  )[0];
  const marks = await db.query<{ seq: number; hash: string; jws: string; kind: string }>(
    'SELECT seq::int AS seq, hash, jws, kind FROM audit_checkpoints ORDER BY seq',
  );
  const byseq = new Map(marks.map((m) => [m.seq, m]));
  let prevHash = 'genesis';
  let expectedSeq = 1;
  let checkedMarks = 0;
  const signed = async (m: { seq: number; hash: string; jws: string }): Promise<string | undefined> => {
    if (!opts.verifyCheckpoint) return undefined;
    try {
      const payload = await opts.verifyCheckpoint(m.jws);
      if (payload.seq !== m.seq || payload.hash !== m.hash)
        return 'the signed checkpoint does not match its row';
      checkedMarks++;
      return undefined;
    } catch {
      return 'the checkpoint signature is not valid';
    }
  };
  const prune = marks.filter((m) => m.kind === 'prune').pop();
  if (prune) {
    const problem = await signed(prune);
    if (problem)
      return {
        valid: false,
        count: 0,
        checkpoints: checkedMarks,
        from: prune.seq + 1,
        firstInvalid: { seq: prune.seq, id: '', problem },
      };
    prevHash = prune.hash;
    expectedSeq = prune.seq + 1;
  }
  const from = expectedSeq;
  const last = head?.seq ?? 0;
  const total = last - from + 1;
  let count = 0;
  const missing = (seq: number, next?: number): VerifyResult => ({
    valid: false,
    count,
    checkpoints: checkedMarks,
    from,
    firstInvalid: {
      seq,
      id: '',
      problem:
        next === undefined
          ? `event ${seq} is missing`
          : `event ${seq} is missing (the next present is ${next})`,
    },
  });
  // Ranges of sequence numbers rather than OFFSET or open-ended scans: each page is one index range, also on a
  // database that has never been analysed (PGlite), so verification stays linear in the length of the log.
  type Row = { seq: number; id: string; content?: string; ok?: boolean; prev_hash: string; hash: string };
  const independent = opts.recompute === 'verifier';
  const columns = independent
    ? 'content::text AS content'
    : `(${HASH_SQL('prev_hash', 'seq', 'content')} = hash) AS ok`;
  const page = (start: number) => {
    const p = db.query<Row>(
      `SELECT seq::int AS seq, id, ${columns}, prev_hash, hash FROM audit_events WHERE seq >= $1 AND seq < $2 ORDER BY seq`,
      [start, start + batchSize],
    );
    p.catch(() => undefined); // a prefetched page may be abandoned when an earlier one already failed
    return p;
  };
  // The next pages are fetched while this one is hashed; on PostgreSQL they come over separate pooled connections,
  // so the server renders several pages at once and the hashing overlaps with all of it.
  const AHEAD = 3;
  const queue: Promise<Row[]>[] = [];
  let nextStart = expectedSeq;
  const fill = () => {
    while (queue.length < AHEAD && nextStart <= last) {
      queue.push(page(nextStart));
      nextStart += batchSize;
    }
  };
  fill();
  while (expectedSeq <= last) {
    const rows = await queue.shift()!;
    fill();
    if (rows.length === 0) return missing(expectedSeq);
    for (const row of rows) {
      const bad = (problem: string): VerifyResult => ({
        valid: false,
        count,
        checkpoints: checkedMarks,
        from,
        firstInvalid: { seq: row.seq, id: row.id, problem },
      });
      if (row.seq !== expectedSeq) return missing(expectedSeq, row.seq);
      if (row.prev_hash !== prevHash) return bad('the link to the previous event does not match');
      if (independent ? chainHash(prevHash, row.seq, row.content ?? '') !== row.hash : !row.ok)
        return bad('the content does not match its hash');
      const mark = byseq.get(row.seq);
      if (mark) {
        if (mark.hash !== row.hash) return bad('the event differs from the signed checkpoint');
        const problem = await signed(mark);
        if (problem) return bad(problem);
      }
      prevHash = row.hash;
      expectedSeq++;
      count++;
    }
    opts.onProgress?.(count, total);
  }
  const [beyond] = await db.query<{ seq: number; id: string }>(
    'SELECT seq::int AS seq, id FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 1',
    [last],
  );
  if (beyond)
    return {
      valid: false,
      count,
      checkpoints: checkedMarks,
      from,
      firstInvalid: {
        seq: beyond.seq,
        id: beyond.id,
        problem: 'an event was inserted after the recorded end of the log',
      },
    };
  if (head && prevHash !== head.hash)
    return {
      valid: false,
      count,
      checkpoints: checkedMarks,
      from,
      firstInvalid: {
        seq: last,
        id: '',
        problem: 'the last event does not match the recorded end of the log',
      },
    };
  opts.onProgress?.(count, total);
  return { valid: true, count, checkpoints: checkedMarks, from };
}
