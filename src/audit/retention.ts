// Retention: audit metadata older than its legal basis's retention is pruned from the start of the log only,
// behind a signed prune checkpoint, so that what remains still verifies. The pruning is itself audited.
import type { Catalogue } from '../consent/catalogue.js';
import type { Database } from '../store/database.js';
import { buildAuditEvent } from './audit-event.js';
import { appendAudit, writeCheckpoint } from './chain.js';

export interface PruneResult {
  /** Events removed: 1..upTo. */
  pruned: number;
  upTo: number;
  dryRun: boolean;
}

/** The years an event is kept: the retention of the legal basis it used, the default otherwise. */
export function retentionYears(
  legalBasis: string | null,
  catalogue: Catalogue,
  defaultYears: number,
): number {
  return (legalBasis && catalogue.legalBases.get(legalBasis)?.retentionYears) || defaultYears;
}

/**
 * Finds the longest run of expired events at the start of the log and (unless dryRun) removes it in one transaction:
 * a signed prune checkpoint of the last removed event, the deletes (allowed only with ketenpoort.pruning set for this
 * transaction), and an AuditEvent that records the pruning.
 */
export async function pruneExpired(
  db: Database,
  opts: { catalogue: Catalogue; defaultYears: number; now?: Date; dryRun?: boolean; actor?: string },
): Promise<PruneResult> {
  const now = opts.now ?? new Date();
  let upTo = 0;
  for (let after = 0; ;) {
    const rows = await db.query<{ seq: number; recorded: Date; legal_basis: string | null }>(
      'SELECT seq::int AS seq, recorded, legal_basis FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 5000',
      [after],
    );
    let stop = rows.length === 0;
    for (const r of rows) {
      const expires = new Date(r.recorded);
      expires.setUTCFullYear(
        expires.getUTCFullYear() + retentionYears(r.legal_basis, opts.catalogue, opts.defaultYears),
      );
      if (expires > now) {
        stop = true;
        break;
      }
      upTo = r.seq;
    }
    if (stop) break;
    after = rows[rows.length - 1]!.seq;
  }
  const [first] = await db.query<{ seq: number }>(
    'SELECT coalesce(min(seq), 0)::int AS seq FROM audit_events',
  );
  const pruned = upTo === 0 ? 0 : upTo - (first?.seq ?? 1) + 1;
  if (opts.dryRun || pruned === 0) return { pruned, upTo, dryRun: !!opts.dryRun };
  await db.transaction(async (tx) => {
    const [last] = await tx.query<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = $1', [upTo]);
    await writeCheckpoint(tx, upTo, last!.hash, 'prune');
    await tx.query(`SELECT set_config('ketenpoort.pruning', 'on', true)`);
    await tx.query('DELETE FROM audit_events WHERE seq <= $1', [upTo]);
    await tx.query(`SELECT set_config('ketenpoort.pruning', 'off', true)`);
    const { event, index } = buildAuditEvent({
      subtype: 'audit-prune',
      outcome: 'success',
      description: `Pruned ${pruned} audit events (sequence up to ${upTo}) whose retention had expired on ${now.toISOString()}; the chain continues from the signed prune checkpoint.`,
      requester: { org: 'Organization/ketenpoort-beheer', clientId: opts.actor ?? 'ketenpoort-cli' },
    });
    await appendAudit(tx, event, index);
  });
  return { pruned, upTo, dryRun: false };
}
