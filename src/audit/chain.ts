// The hash-chained audit log: how events chain and how the log is verified from the start (appending: log.ts).
import { createHash, randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import type { AuditIndex } from './audit-index.js';

export interface CheckpointPayload {
  /** The chain this checkpoint belongs to (1 when absent: checkpoints signed before there were several chains). */
  chain?: number;
  /** The position in that chain; `seq` in checkpoints signed before there were several chains. */
  link?: number;
  seq?: number;
  hash: string;
  at: string;
  kind: 'periodic' | 'prune';
}

/** The most chains a log can have: the heads that migration 005 creates. */
export { DEFAULT_AUDIT_CHAINS, MAX_AUDIT_CHAINS } from '../config.js';

/**
 * The hash of an event: sha256 over "prev_hash \n link \n content", where link is the event's position in its chain
 * and content is the stored text of the record (a json column keeps the text exactly as written; records written
 * while the column was jsonb read back as the jsonb text they were hashed over). The database computes it on insert;
 * a verifier recomputes it from `content::text` without parsing or re-serialising the event, which keeps verification
 * of long logs fast. Each chain starts from its own genesis value ("genesis" for chain 1, "genesis/N" for chain N).
 */
export const HASH_SQL = (prev: string, link: string, content: string) =>
  `pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(${prev} || E'\\n' || (${link})::text || E'\\n' || (${content})::text, 'UTF8')), 'hex')`;

export function chainHash(prevHash: string, link: number, contentText: string): string {
  return createHash('sha256').update(`${prevHash}\n${link}\n${contentText}`).digest('hex');
}

export const genesis = (chain: number) => (chain === 1 ? 'genesis' : `genesis/${chain}`);

export interface AuditItem {
  event: AuditEvent;
  index: AuditIndex;
}

/** The batch audit_append takes: each record with an id, beside the index columns copied out of it. */
export function auditBatch(items: AuditItem[]): { stored: AuditEvent[]; rows: string } {
  const stored = items.map(({ event }) => ({ ...event, id: event.id ?? randomUUID() }));
  const rows = JSON.stringify(
    items.map(({ index }, i) => ({
      id: stored[i]!.id,
      recorded: stored[i]!.recorded,
      action: index.action,
      subtype: index.subtype,
      outcome: index.outcome,
      patient: index.patient ?? null,
      patients: index.patients && index.patients.length > 1 ? index.patients : null,
      agent_org: index.agentOrg ?? null,
      recipient_org: index.recipientOrg ?? null,
      purpose: index.purpose ?? null,
      legal_basis: index.legalBasis ?? null,
      content: stored[i],
    })),
  );
  return { stored, rows };
}

export interface VerifyResult {
  valid: boolean;
  count: number;
  /** Signed checkpoints whose signature and hash were checked. */
  checkpoints: number;
  /** Where verification starts: the first position after a documented prune (the lowest over all chains), 1 otherwise. */
  from: number;
  /** Chains that hold events (or ever did). */
  chains: number;
  /** The first event that does not fit its chain: the chain, its position there, its id and what is wrong. */
  firstInvalid?: { chain: number; seq: number; id: string; problem: string };
}

/** Verifies a checkpoint's JWS and returns its payload; throws when the signature is not the gateway's. */
export type CheckpointVerifier = (jws: string) => Promise<CheckpointPayload>;

interface VerifyOptions {
  onProgress?: (checked: number, total: number) => void;
  batchSize?: number;
  verifyCheckpoint?: CheckpointVerifier;
  /**
   * 'database' (default) has PostgreSQL recompute each hash next to the row and send only the verdict: fast, and
   * sound against altered rows. 'verifier' fetches every event and recomputes its hash here, independently of the
   * database's functions.
   */
  recompute?: 'database' | 'verifier';
}

type Mark = { chain: number; link: number; hash: string; jws: string; kind: string };
type Problem = { seq: number; id: string; problem: string };

/**
 * Walks every chain in order of position and recomputes every hash; checks each signed checkpoint against its chain.
 * After a prune a chain's walk starts from its signed prune checkpoint, so the remaining log stays verifiable.
 */
export async function verifyChain(db: Queryable, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const heads = await db.query<{ chain: number; link: number; hash: string }>(
    'SELECT id::int AS chain, link::int AS link, hash FROM audit_chain_head ORDER BY id',
  );
  const marks = await db.query<Mark>(
    'SELECT chain, link::int AS link, hash, jws, kind FROM audit_checkpoints ORDER BY chain, link',
  );
  let checkedMarks = 0;
  const signed = async (m: Mark): Promise<string | undefined> => {
    if (!opts.verifyCheckpoint) return undefined;
    try {
      const payload = await opts.verifyCheckpoint(m.jws);
      if (
        (payload.chain ?? 1) !== m.chain ||
        (payload.link ?? payload.seq) !== m.link ||
        payload.hash !== m.hash
      )
        return 'the signed checkpoint does not match its row';
      checkedMarks++;
      return undefined;
    } catch {
      return 'the checkpoint signature is not valid';
    }
  };
  // Where each chain's walk starts: after its last prune checkpoint (checked first), at 1 otherwise.
  const starts = new Map<number, { link: number; hash: string }>();
  for (const head of heads) {
    const prune = marks.filter((m) => m.chain === head.chain && m.kind === 'prune').pop();
    if (prune) {
      const problem = await signed(prune);
      if (problem)
        return {
          valid: false,
          count: 0,
          checkpoints: checkedMarks,
          from: prune.link + 1,
          chains: heads.length,
          firstInvalid: { chain: head.chain, seq: prune.link, id: '', problem },
        };
    }
    starts.set(
      head.chain,
      prune ? { link: prune.link + 1, hash: prune.hash } : { link: 1, hash: genesis(head.chain) },
    );
  }
  const used = heads.filter((h) => h.link > 0);
  const total = used.reduce((n, h) => n + h.link - starts.get(h.chain)!.link + 1, 0);
  const from = used.length ? Math.min(...used.map((h) => starts.get(h.chain)!.link)) : 1;
  let count = 0;
  const verdict = (chain: number, problem?: Problem): VerifyResult => ({
    valid: !problem,
    count,
    checkpoints: checkedMarks,
    from,
    chains: used.length,
    ...(problem ? { firstInvalid: { chain, ...problem } } : {}),
  });
  // Events of no known chain: below, above or between the known heads, each an index range on (chain, link)
  // rather than a scan of the whole log.
  const known = new Set(heads.map((h) => h.chain));
  const low = Math.min(...known);
  const high = Math.max(...known);
  const gaps = Array.from({ length: Math.max(high - low - 1, 0) }, (_, i) => low + 1 + i).filter(
    (c) => !known.has(c),
  );
  const [stray] = await db.query<{ chain: number; link: number; id: string }>(
    `SELECT chain, link::int AS link, id FROM audit_events
     WHERE chain < $1 OR chain > $2 OR chain = ANY($3::int[]) LIMIT 1`,
    [low, high, gaps],
  );
  for (const head of heads) {
    const start = starts.get(head.chain)!;
    const problem = await verifyOne(db, opts, head, start, marks, signed, (n) => {
      count += n;
      opts.onProgress?.(count, total);
    });
    if (problem) return verdict(head.chain, problem);
  }
  if (stray)
    return verdict(stray.chain, {
      seq: stray.link,
      id: stray.id,
      problem: 'an event belongs to no known chain',
    });
  return verdict(0);
}

/** Walks one chain from `start` to its head; returns the first problem, or undefined when the chain is intact. */
async function verifyOne(
  db: Queryable,
  opts: VerifyOptions,
  head: { chain: number; link: number; hash: string },
  start: { link: number; hash: string },
  marks: Mark[],
  signed: (m: Mark) => Promise<string | undefined>,
  verified: (events: number) => void,
): Promise<Problem | undefined> {
  const batchSize = opts.batchSize ?? 5000;
  const byLink = new Map(marks.filter((m) => m.chain === head.chain).map((m) => [m.link, m]));
  let prevHash = start.hash;
  let expected = start.link;
  const last = head.link;
  const missing = (link: number, next?: number): Problem => ({
    seq: link,
    id: '',
    problem:
      next === undefined
        ? `event ${link} is missing`
        : `event ${link} is missing (the next present is ${next})`,
  });
  // Ranges of positions rather than OFFSET or open-ended scans: each page is one index range, also on a database
  // that has never been analysed (PGlite), so verification stays linear in the length of the log.
  type Row = { link: number; id: string; content?: string; ok?: boolean; prev_hash: string; hash: string };
  const independent = opts.recompute === 'verifier';
  const columns = independent
    ? 'content::text AS content'
    : `(${HASH_SQL('prev_hash', 'link', 'content')} = hash) AS ok`;
  const page = (from: number) => {
    const p = db.query<Row>(
      `SELECT link::int AS link, id, ${columns}, prev_hash, hash FROM audit_events
       WHERE chain = $1 AND link >= $2 AND link < $3 ORDER BY link`,
      [head.chain, from, from + batchSize],
    );
    p.catch(() => undefined); // a prefetched page may be abandoned when an earlier one already failed
    return p;
  };
  // The next pages are fetched while this one is hashed; on PostgreSQL they come over separate pooled connections,
  // so the server renders several pages at once and the hashing overlaps with all of it.
  const AHEAD = 3;
  const queue: Promise<Row[]>[] = [];
  let nextStart = expected;
  const fill = () => {
    while (queue.length < AHEAD && nextStart <= last) {
      queue.push(page(nextStart));
      nextStart += batchSize;
    }
  };
  fill();
  while (expected <= last) {
    const rows = await queue.shift()!;
    fill();
    if (rows.length === 0) return missing(expected);
    const pageStart = expected;
    for (const row of rows) {
      const bad = (problem: string): Problem => {
        verified(expected - pageStart);
        return { seq: row.link, id: row.id, problem };
      };
      if (row.link !== expected) {
        verified(expected - pageStart);
        return missing(expected, row.link);
      }
      if (row.prev_hash !== prevHash) return bad('the link to the previous event does not match');
      if (independent ? chainHash(prevHash, row.link, row.content ?? '') !== row.hash : !row.ok)
        return bad('the content does not match its hash');
      const mark = byLink.get(row.link);
      if (mark) {
        if (mark.hash !== row.hash) return bad('the event differs from the signed checkpoint');
        const problem = await signed(mark);
        if (problem) return bad(problem);
      }
      prevHash = row.hash;
      expected++;
    }
    verified(rows.length);
  }
  const [beyond] = await db.query<{ link: number; id: string }>(
    'SELECT link::int AS link, id FROM audit_events WHERE chain = $1 AND link > $2 ORDER BY link LIMIT 1',
    [head.chain, last],
  );
  if (beyond)
    return {
      seq: beyond.link,
      id: beyond.id,
      problem: 'an event was inserted after the recorded end of the log',
    };
  if (prevHash !== head.hash)
    return { seq: last, id: '', problem: 'the last event does not match the recorded end of the log' };
  return undefined;
}
