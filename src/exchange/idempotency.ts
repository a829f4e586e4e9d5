// Idempotency-Key: the same key with the same body returns the first answer; with another body it is a conflict.
// $exchange runs once per key: an earlier answer is replayed, and of two concurrent requests only one commits.
import { createHash } from 'node:crypto';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { canonicalJson } from '../audit/canonical.js';
import type { Principal } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import type { Queryable } from '../store/database.js';
import { findAnswer, isUniqueViolation, storeAnswer, type StoredAnswer } from '../store/idempotency.js';
import { badRequest, conflict } from '../fhir/outcomes.js';
import { pushExchange, type ExchangeOptions, type ExchangeOutcome } from './push.js';
import type { DecisionQuestion } from './request.js';

export type { StoredAnswer } from '../store/idempotency.js';

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
    throw badRequest(
      'Idempotency-Key moet 1 tot 255 afdrukbare tekens lang zijn / Idempotency-Key must be 1 to 255 printable characters',
    );
  return { clientId, key: header, bodyHash: createHash('sha256').update(canonicalJson(body)).digest('hex') };
}

/** The earlier answer for this key within the window, or undefined; 409 when the key came with another body. */
async function earlierAnswer(
  db: Queryable,
  claim: IdempotencyClaim,
  windowHours: number,
): Promise<StoredAnswer | undefined> {
  const found = await findAnswer(db, claim.clientId, claim.key, windowHours);
  if (!found) return undefined;
  if (found.bodyHash !== claim.bodyHash)
    throw conflict(
      'Deze Idempotency-Key is eerder gebruikt met een ander verzoek / This Idempotency-Key was used before with a different request body',
    );
  return { status: found.status, body: found.body };
}

/**
 * Records the answer in the caller's transaction. A concurrent request with the same key waits on the primary
 * key and then fails, so that only one of them commits its exchange; it then answers with the stored one.
 */
function recordAnswer(
  tx: Queryable,
  claim: IdempotencyClaim,
  answer: StoredAnswer,
  windowHours: number,
): Promise<void> {
  return storeAnswer(tx, claim, answer, windowHours);
}

/** What an exchange is asked: read from the request only when there is no earlier answer to replay. */
export interface ExchangeRequest {
  question: DecisionQuestion;
  payload: Bundle;
  /** The answer to an outcome, as it is given now and replayed later. */
  answerOf(outcome: ExchangeOutcome): StoredAnswer;
}

/** What came of an exchange: its outcome now, or the answer given to the first request with its Idempotency-Key. */
export type ExchangeResult =
  { replayed: false; outcome: ExchangeOutcome } | { replayed: true; answer: StoredAnswer };

/** The answer as a replay gives it: `delivered` becomes a reference by identifier to the Bundle that went out. */
function withoutDeliveredContent(answer: Parameters, delivered: Bundle): Parameters {
  return {
    ...answer,
    parameter: (answer.parameter ?? []).map((p) =>
      p.name === 'delivered'
        ? { name: 'delivered', valueReference: { type: 'Bundle', identifier: delivered.identifier } }
        : p,
    ),
  };
}

/**
 * $exchange once per claim: an earlier answer to the claim's key is replayed before the request is read; otherwise
 * the exchange runs and its answer is recorded in its transaction. Without a claim it simply runs.
 */
export async function exchangeOnce(
  ctx: GatewayContext,
  principal: Principal,
  claim: IdempotencyClaim | undefined,
  read: () => ExchangeRequest,
  opts: ExchangeOptions,
): Promise<ExchangeResult> {
  const window = ctx.config.idempotencyWindowHours;
  const replay = async (): Promise<ExchangeResult> => {
    const earlier = await earlierAnswer(ctx.db, claim!, window);
    if (!earlier) throw new Error('idempotent answer vanished');
    return { replayed: true, answer: earlier };
  };
  if (claim && (await earlierAnswer(ctx.db, claim, window))) return replay();

  const { question, payload, answerOf } = read();
  try {
    const record = async (tx: Queryable, done: ExchangeOutcome) => {
      const answer = answerOf(done);
      // A replay needs the decision, the Task and the AuditEvent; the delivered Bundle is named by its identifier
      // only, so that no care data stay in idempotency_keys for the window.
      const kept = done.accepted
        ? { ...answer, body: withoutDeliveredContent(answer.body as Parameters, done.delivered) }
        : answer;
      await recordAnswer(tx, claim!, kept, window);
    };
    const outcome = await pushExchange(ctx, principal, question, payload, opts, claim ? record : undefined);
    return { replayed: false, outcome };
  } catch (err) {
    // A concurrent request with the same Idempotency-Key committed first: answer as it did.
    if (claim && isUniqueViolation(err)) return replay();
    throw err;
  }
}
