// Idempotency-Key: the same key with the same body returns the first answer; with another body it is a conflict.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.js';
import type { Queryable } from '../store/database.js';
import { findAnswer, storeAnswer, type StoredAnswer } from '../store/idempotency.js';
import { badRequest, conflict } from '../fhir/outcomes.js';

export { isUniqueViolation, type StoredAnswer } from '../store/idempotency.js';

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
  const found = await findAnswer(db, claim.clientId, claim.key, windowHours);
  if (!found) return undefined;
  if (found.bodyHash !== claim.bodyHash)
    throw conflict('This Idempotency-Key was used before with a different request body');
  return { status: found.status, body: found.body };
}

/**
 * Records the answer in the caller's transaction. A concurrent request with the same key waits on the primary
 * key and then fails, so that only one of them commits its exchange; it then answers with the stored one.
 */
export function recordAnswer(
  tx: Queryable,
  claim: IdempotencyClaim,
  answer: StoredAnswer,
  windowHours: number,
): Promise<void> {
  return storeAnswer(tx, claim, answer, windowHours);
}
