// Retention: audit metadata older than its legal basis's retention is pruned from the start of the log only,
// behind a signed prune checkpoint, so that what remains still verifies. The pruning is itself audited.
import type { Catalogue } from '../consent/catalogue.js';
import type { Database } from '../store/database.js';
import { addYears } from '../time/amsterdam.js';
import { buildAuditEvent } from './audit-event.js';
import { appendAudit, auditLogOf } from './log.js';

export interface PruneResult {
  /** Events removed, over all chains. */
  pruned: number;
  /** Per chain that had expired events: the last position removed. */
  upTo: Record<number, number>;
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
 * The moment an event recorded at `recorded` expires: its retention in calendar years as the Netherlands counts them
 * (the same Amsterdam date and time, summer time or not), not in UTC years.
 */
export function retentionEnd(
  recorded: Date,
  legalBasis: string | null,
  catalogue: Catalogue,
  defaultYears: number,
): Date {
  return addYears(recorded, retentionYears(legalBasis, catalogue, defaultYears));
}

/**
 * Finds, per chain, the longest run of expired events at its start and (unless dryRun) removes them in one
 * transaction: a signed prune checkpoint of the last removed event of each chain, the deletes (allowed only with
 * ketenpoort.pruning set for this transaction), and an AuditEvent that records the pruning.
 */
export async function pruneExpired(
  db: Database,
  opts: { catalogue: Catalogue; defaultYears: number; now?: Date; dryRun?: boolean; actor?: string },
): Promise<PruneResult> {
  const now = opts.now ?? new Date();
  const chains = await db.query<{ chain: number }>('SELECT DISTINCT chain FROM audit_events ORDER BY chain');
  const upTo: Record<number, number> = {};
  const lastHash = new Map<number, string>();
  let pruned = 0;
  for (const { chain } of chains) {
    let last = 0;
    let n = 0;
    for (let after = 0; ;) {
      const rows = await db.query<{ link: number; hash: string; recorded: Date; legal_basis: string | null }>(
        'SELECT link::int AS link, hash, recorded, legal_basis FROM audit_events WHERE chain = $1 AND link > $2 ORDER BY link LIMIT 5000',
        [chain, after],
      );
      let stop = rows.length === 0;
      for (const r of rows) {
        if (retentionEnd(new Date(r.recorded), r.legal_basis, opts.catalogue, opts.defaultYears) > now) {
          stop = true;
          break;
        }
        last = r.link;
        lastHash.set(chain, r.hash);
        n++;
      }
      if (stop) break;
      after = rows[rows.length - 1]!.link;
    }
    if (n > 0) {
      upTo[chain] = last;
      pruned += n;
    }
  }
  if (opts.dryRun || pruned === 0) return { pruned, upTo, dryRun: !!opts.dryRun };
  await db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('ketenpoort.pruning', 'on', true)`);
    for (const [chain, link] of Object.entries(upTo).map(([c, l]) => [Number(c), l] as const)) {
      await auditLogOf(tx).checkpoint(tx, chain, link, lastHash.get(chain)!, 'prune');
      await tx.query('DELETE FROM audit_events WHERE chain = $1 AND link <= $2', [chain, link]);
    }
    await tx.query(`SELECT set_config('ketenpoort.pruning', 'off', true)`);
    const ranges = Object.entries(upTo)
      .map(([chain, link]) => `chain ${chain} up to ${link}`)
      .join(', ');
    const { event, index } = buildAuditEvent({
      subtype: 'audit-prune',
      outcome: 'success',
      description: `Pruned ${pruned} audit events (${ranges}) whose retention had expired on ${now.toISOString()}; each chain continues from its signed prune checkpoint.`,
      requester: { org: 'Organization/ketenpoort-beheer', clientId: opts.actor ?? 'ketenpoort-cli' },
    });
    await appendAudit(tx, event, index);
  });
  return { pruned, upTo, dryRun: false };
}
