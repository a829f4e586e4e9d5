// Idempotency-Key: the same key with the same body returns the first answer; with another body it is a conflict.
import { createHash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { canonicalJson } from '../audit/canonical.js';
import type { Queryable } from '../store/database.js';
import { badRequest, conflict } from '../fhir/outcomes.js';

export interface StoredAnswer {
  status: number;
  body: Resource;
}

export interface IdempotencyClaim {
  clientId: string;
  key: string;
  bodyHash: string;
}

/** Reads the header; undefined when absent. Keys are opaque, 1–255 printable characters. */
export function idempotencyClaim(
  clientId: string,
  header: string | undefined,
  body: unknown,
): IdempotencyClaim | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(header))
    throw badRequest('Idempotency-Key must be 1 to 255 printable characters');
  return { clientId, key: header, bodyHash: createHash('sha256').update(canonicalJson(body)).digest('hex') };
}

/** The earlier answer for this key within the window, or undefined; 409 when the key came with another body. */
export async function earlierAnswer(
  db: Queryable,
  claim: IdempotencyClaim,
  windowHours: number,
): Promise<StoredAnswer | undefined> {
  const rows = await db.query<{ body_hash: string; status: number; response: Resource }>(
    `SELECT body_hash, status, response FROM idempotency_keys
     WHERE client_id = $1 AND key = $2 AND created_at > now() - make_interval(hours => $3)`,
    [claim.clientId, claim.key, windowHours],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.body_hash !== claim.bodyHash)
    throw conflict('This Idempotency-Key was used before with a different request body');
  return { status: row.status, body: row.response };
}

/**
 * Records the answer in the caller's transaction. A concurrent request with the same key waits on the primary
 * key and then fails, so that only one of them commits its exchange; it then answers with the stored one.
 */
export async function recordAnswer(
  tx: Queryable,
  claim: IdempotencyClaim,
  answer: StoredAnswer,
  windowHours: number,
): Promise<void> {
  // Keys past the window are not needed for a replay: this client's expired keys go now (this one's included).
  await tx.query(
    `DELETE FROM idempotency_keys WHERE client_id = $1 AND created_at <= now() - make_interval(hours => $2)`,
    [claim.clientId, windowHours],
  );
  await tx.query(
    'INSERT INTO idempotency_keys (client_id, key, body_hash, status, response) VALUES ($1, $2, $3, $4, $5::jsonb)',
    [claim.clientId, claim.key, claim.bodyHash, answer.status, JSON.stringify(answer.body)],
  );
}

export function isUniqueViolation(err: unknown): boolean {
  return (
    (err as { code?: string })?.code === '23505' || /duplicate key value/.test((err as Error)?.message ?? '')
  );
}
