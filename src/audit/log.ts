// The audit log a process appends to: how many chains its writers spread over, the gateway key's checkpoint signer,
// and the chain head each open transaction holds. The composition root (server.ts, cli.ts, a test, a bench) builds
// one at start-up and puts it on the database handle it opened (`db.withServices(log)`); every transaction of that
// handle carries it, and `auditLogOf(tx)` finds it there.
//
// Why on the transaction rather than an argument beside it: an audit record is written in the transaction of the
// change it records, so every writer already holds the transaction, and the log belongs to the database that
// transaction runs on. Threading the log as a second argument through every `audit(tx, …)` would touch a few dozen
// call sites and let a caller pair a transaction with the wrong log. The store keeps the slot untyped (`services`)
// and never reads it; only this module gives it a type, and a handle without a log refuses to append (fail closed).
import type { AuditEvent } from '@medplum/fhirtypes';
import { DEFAULT_AUDIT_CHAINS, MAX_AUDIT_CHAINS } from '../config.js';
import type { Queryable } from '../store/database.js';
import type { AuditIndex } from './audit-index.js';
import { auditBatch, type AuditItem, type CheckpointPayload } from './chain.js';
import { signCheckpoint, type CheckpointKey } from './checkpoint-jws.js';
import { attributePersons } from './persons.js';

export interface AuditLogOptions {
  /** How many audit chains concurrent writers spread over (1–16; DEFAULT_AUDIT_CHAINS when absent). */
  chains?: number;
  /** Signed checkpoints: one every `every` events of a chain, signed with the gateway key. */
  checkpoints?: { every: number; key: CheckpointKey };
}

export class AuditLog {
  /** How many chains concurrent writers spread over. */
  readonly chains: number;
  private readonly checkpoints?: {
    every: number;
    sign(payload: CheckpointPayload): Promise<string>;
  };
  /** The chain each open transaction writes to: a transaction keeps to the one head it has locked. */
  private readonly heldChain = new WeakMap<Queryable, number>();

  constructor(opts: AuditLogOptions = {}) {
    this.chains = Math.min(Math.max(opts.chains ?? DEFAULT_AUDIT_CHAINS, 1), MAX_AUDIT_CHAINS);
    const key = opts.checkpoints?.key;
    if (key)
      this.checkpoints = {
        every: Math.max(opts.checkpoints!.every, 1),
        sign: (p) => signCheckpoint(key, p),
      };
  }

  /**
   * Appends AuditEvents, in order, to one audit chain inside the caller's transaction; they commit or roll back
   * together with whatever else the transaction wrote. The transaction takes the first chain head that no other
   * transaction holds and keeps it until it ends, so concurrent writers (threads or processes) each extend their own
   * chain instead of waiting for one another's commits; only when every head is taken does a writer wait for one.
   */
  async append(tx: Queryable, items: AuditItem[]): Promise<AuditEvent[]> {
    if (items.length === 0) return [];
    await attributePersons(tx, items);
    const { stored, rows } = auditBatch(items);
    // One call of audit_append (migrations 005 and 007): it locks a head (this transaction's, else a free one), chains and inserts
    // the events, and moves the head.
    const [head] = await tx.query<{ chain: number; link: number; hash: string }>(
      'SELECT chain_id AS chain, chain_link::int AS link, chain_hash AS hash FROM audit_append($1::json, $2, $3)',
      [rows, this.chains, this.heldChain.get(tx) ?? null],
    );
    if (!head) throw new Error('audit chain head missing');
    this.heldChain.set(tx, head.chain);
    const every = this.checkpoints?.every;
    if (every) {
      const marks: number[] = [];
      for (let link = head.link - (head.link % every); link > head.link - items.length; link -= every)
        marks.push(link);
      if (marks.length > 0) {
        const rows = await tx.query<{ link: number; hash: string }>(
          'SELECT link::int AS link, hash FROM audit_events WHERE chain = $1 AND link = ANY($2::bigint[]) ORDER BY link',
          [head.chain, marks],
        );
        // Signed at the moment the batch's last event was recorded (the request's, not another clock's).
        const at = new Date(stored[stored.length - 1]!.recorded!);
        for (const m of rows) await this.checkpoint(tx, head.chain, m.link, m.hash, 'periodic', at);
      }
    }
    return stored;
  }

  /** Writes a signed checkpoint at a chain's position. */
  async checkpoint(
    tx: Queryable,
    chain: number,
    link: number,
    hash: string,
    kind: CheckpointPayload['kind'],
    at: Date = new Date(),
  ): Promise<void> {
    const settings = this.checkpoints;
    if (!settings) throw new Error('audit checkpoints are not configured for this database');
    const jws = await settings.sign({ chain, link, hash, at: at.toISOString(), kind });
    // A prune checkpoint takes the place of a periodic one at the same position: verification starts from it.
    await tx.query(
      `INSERT INTO audit_checkpoints (chain, link, hash, jws, kind) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (chain, link) DO ${kind === 'prune' ? 'UPDATE SET hash = EXCLUDED.hash, jws = EXCLUDED.jws, kind = EXCLUDED.kind' : 'NOTHING'}`,
      [chain, link, hash, jws, kind],
    );
  }
}

/** The audit log the database of this transaction (or database handle) was given; throws when it has none. */
export function auditLogOf(tx: Queryable): AuditLog {
  if (tx.services instanceof AuditLog) return tx.services;
  throw new Error('no audit log for this database: give it one with db.withServices(new AuditLog(…))');
}

/** Appends AuditEvents in the caller's transaction, to the log of its database (see AuditLog.append). */
export async function appendAudits(tx: Queryable, items: AuditItem[]): Promise<AuditEvent[]> {
  return auditLogOf(tx).append(tx, items);
}

/** Appends one AuditEvent (see appendAudits). */
export async function appendAudit(tx: Queryable, event: AuditEvent, index: AuditIndex): Promise<AuditEvent> {
  return (await appendAudits(tx, [{ event, index }]))[0]!;
}
