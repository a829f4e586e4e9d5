// Group commit of read audit records: concurrent records share commits, every caller learns when its record is
// committed, and a failed commit fails every caller in it (so no read is released without its record).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuditEvent } from '../src/audit/audit-event.js';
import { verifyChain } from '../src/audit/chain.js';
import { AuditWriter } from '../src/audit/writer.js';
import type { Database } from '../src/store/database.js';
import { ENGINES, freshDatabase } from './helpers.js';

const item = (n: number, id?: string) => {
  const built = buildAuditEvent({
    subtype: 'read',
    outcome: 'success',
    description: `read ${n}`,
    requester: { org: 'Organization/cjg-venlo', clientId: 'sandbox-cjg' },
    patient: { bsn: '999910036' },
  });
  return id ? { ...built, event: { ...built.event, id } } : built;
};

describe.each(ENGINES)('audit group commit on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
  });
  afterAll(() => drop());

  it('commits 300 concurrent records in far fewer transactions, each caller after its own commit', async () => {
    const writer = new AuditWriter(db, { parallel: 2 });
    const stored = await Promise.all(Array.from({ length: 300 }, (_, n) => writer.append(item(n))));
    const ids = stored.map((e) => e.id!);
    expect(new Set(ids).size).toBe(300);
    const [rows] = await db.query<{ n: number; commits: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT xmin::text)::int AS commits FROM audit_events WHERE id = ANY($1::text[])',
      [ids],
    );
    expect(rows!.n).toBe(300);
    expect(rows!.commits).toBeLessThan(30);
    expect((await verifyChain(db)).valid).toBe(true);
    await writer.drain();
  });

  it('puts the records handed over in one turn of the event loop into one commit, even with a commit slot free', async () => {
    const writer = new AuditWriter(db, { parallel: 2 });
    const stored = await Promise.all(Array.from({ length: 40 }, (_, n) => writer.append(item(n))));
    const [rows] = await db.query<{ commits: number }>(
      'SELECT count(DISTINCT xmin::text)::int AS commits FROM audit_events WHERE id = ANY($1::text[])',
      [stored.map((e) => e.id!)],
    );
    expect(rows!.commits).toBe(1);
  });

  it('fails every caller of a commit that fails, and goes on with the next', async () => {
    const writer = new AuditWriter(db, { parallel: 1 });
    await writer.append(item(1, 'duplicate-id'));
    // While one commit is under way the next three queue up and go together; one of them cannot be stored (its id
    // is taken), so that whole commit fails.
    const busy = writer.append(item(2));
    await new Promise((resolve) => setImmediate(resolve)); // the commit of item 2 starts at the end of this turn
    const batch = [writer.append(item(3)), writer.append(item(4, 'duplicate-id')), writer.append(item(5))];
    await busy;
    const settled = await Promise.allSettled(batch);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const after = await writer.append(item(6));
    const [row] = await db.query('SELECT id FROM audit_events WHERE id = $1', [after.id]);
    expect(row).toBeDefined();
    expect((await verifyChain(db)).valid).toBe(true);
  });
});
