// The idempotency_keys table: the first answer to a client's Idempotency-Key, kept for a window of hours.
// The window is measured on the database's clock (created_at defaults to now(), compared with now()), not on the
// request's moment: a deliberate exception to the one clock, because a retry is a matter of real elapsed time (a
// sandbox clock set back or ahead must neither revive nor expire a key) and every process shares the database's clock.
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from './database.js';

export interface StoredAnswer {
  status: number;
  body: Resource;
}

/** The answer stored for a client's key within the window, with the hash of the body it came with. */
export async function findAnswer(
  db: Queryable,
  clientId: string,
  key: string,
  windowHours: number,
): Promise<(StoredAnswer & { bodyHash: string }) | undefined> {
  const rows = await db.query<{ body_hash: string; status: number; response: Resource }>(
    `SELECT body_hash, status, response FROM idempotency_keys
     WHERE client_id = $1 AND key = $2 AND created_at > now() - make_interval(hours => $3)`,
    [clientId, key, windowHours],
  );
  const row = rows[0];
  return row && { bodyHash: row.body_hash, status: row.status, body: row.response };
}

/**
 * Stores the answer in the caller's transaction. A concurrent request with the same key waits on the primary key and
 * then fails (isUniqueViolation), so that only one of them commits.
 */
export async function storeAnswer(
  tx: Queryable,
  key: { clientId: string; key: string; bodyHash: string },
  answer: StoredAnswer,
  windowHours: number,
): Promise<void> {
  // Keys past the window are not needed for a replay: this client's expired keys go now (this one's included).
  await tx.query(
    `DELETE FROM idempotency_keys WHERE client_id = $1 AND created_at <= now() - make_interval(hours => $2)`,
    [key.clientId, windowHours],
  );
  await tx.query(
    'INSERT INTO idempotency_keys (client_id, key, body_hash, status, response) VALUES ($1, $2, $3, $4, $5::jsonb)',
    [key.clientId, key.key, key.bodyHash, answer.status, JSON.stringify(answer.body)],
  );
}

export function isUniqueViolation(err: unknown): boolean {
  return (
    (err as { code?: string })?.code === '23505' || /duplicate key value/.test((err as Error)?.message ?? '')
  );
}
