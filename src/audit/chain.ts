// The hash-chained audit log: append inside the caller's transaction, verify from the start.
import { createHash, randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { canonicalJson } from './canonical.js';

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

export function chainHash(prevHash: string, seq: number, content: unknown): string {
  return createHash('sha256')
    .update(`${prevHash}\n${seq}\n${canonicalJson(content)}`)
    .digest('hex');
}

/**
 * Appends one AuditEvent. The chain head row is locked for the rest of the caller's transaction, so concurrent
 * writers (threads or processes) take turns and the chain stays one line; the event commits or rolls back
 * together with whatever else the transaction wrote.
 */
export async function appendAudit(tx: Queryable, event: AuditEvent, index: AuditIndex): Promise<AuditEvent> {
  const head = (
    await tx.query<{ seq: number; hash: string }>(
      'SELECT seq::int AS seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE',
    )
  )[0];
  if (!head) throw new Error('audit chain head missing');
  const seq = head.seq + 1;
  const stored: AuditEvent = { ...event, id: event.id ?? randomUUID() };
  const hash = chainHash(head.hash, seq, stored);
  await tx.query(
    `INSERT INTO audit_events (seq, id, recorded, action, subtype, outcome, patient, agent_org, recipient_org, purpose, legal_basis, content, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14)`,
    [
      seq,
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
      head.hash,
      hash,
    ],
  );
  await tx.query('UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1', [seq, hash]);
  return stored;
}

export interface VerifyResult {
  valid: boolean;
  count: number;
  /** The first event that does not fit the chain: its sequence number, id and what is wrong. */
  firstInvalid?: { seq: number; id: string; problem: string };
}

/** Walks the chain in order of sequence number and recomputes every hash. */
export async function verifyChain(
  db: Queryable,
  onProgress?: (checked: number, total: number) => void,
  batchSize = 5000,
): Promise<VerifyResult> {
  const head = (
    await db.query<{ seq: number; hash: string }>(
      'SELECT seq::int AS seq, hash FROM audit_chain_head WHERE id = 1',
    )
  )[0];
  const total = head?.seq ?? 0;
  let prevHash = 'genesis';
  let expectedSeq = 1;
  let count = 0;
  for (;;) {
    const rows = await db.query<{
      seq: number;
      id: string;
      content: unknown;
      prev_hash: string;
      hash: string;
    }>(
      'SELECT seq::int AS seq, id, content, prev_hash, hash FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2',
      [expectedSeq, batchSize],
    );
    for (const row of rows) {
      const bad = (problem: string): VerifyResult => ({
        valid: false,
        count,
        firstInvalid: { seq: row.seq, id: row.id, problem },
      });
      if (row.seq !== expectedSeq) return bad(`event ${expectedSeq} is missing (next present is ${row.seq})`);
      if (row.prev_hash !== prevHash) return bad('the link to the previous event does not match');
      if (chainHash(prevHash, row.seq, row.content) !== row.hash)
        return bad('the content does not match its hash');
      prevHash = row.hash;
      expectedSeq++;
      count++;
    }
    onProgress?.(count, total);
    if (rows.length < batchSize) break;
  }
  if (head && (count !== head.seq || prevHash !== head.hash)) {
    return {
      valid: false,
      count,
      firstInvalid: { seq: count + 1, id: '', problem: 'events at the end of the log are missing' },
    };
  }
  return { valid: true, count };
}
