// Group commit: the writes of one turn share a transaction, each caller is answered after its own commit, and a
// shared commit that fails is tried again write by write, so that one bad write fails only its own caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from './database.js';
import { GroupCommit } from './group-commit.js';
import { ENGINES, freshDatabase } from '../../test/helpers.js';

/** Inserts the batch's keys in one statement; returns the transaction each landed in. */
async function insertKeys(tx: Queryable, keys: string[]): Promise<string[]> {
  const rows = await tx.query<{ key: string; xid: string }>(
    'INSERT INTO group_commit_probe (key) SELECT unnest($1::text[]) RETURNING key, xmin::text AS xid',
    [keys],
  );
  return keys.map((k) => rows.find((r) => r.key === k)!.xid);
}

describe.each(ENGINES)('group commit on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    await db.query('CREATE TABLE group_commit_probe (key text PRIMARY KEY)');
  });
  afterAll(() => drop());

  it('writes what is handed over in one turn in one transaction, and answers each after the commit', async () => {
    const commits = new GroupCommit(db, insertKeys);
    const keys = Array.from({ length: 50 }, (_, n) => `turn-${n}`);
    const xids = await Promise.all(keys.map((k) => commits.add(k)));
    expect(new Set(xids).size).toBe(1);
    const [row] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM group_commit_probe WHERE key = ANY($1::text[])',
      [keys],
    );
    expect(row!.n).toBe(50);
  });

  it('tries each write alone when the shared commit fails: only the bad one fails, nothing of it is half done', async () => {
    const commits = new GroupCommit(db, insertKeys);
    await commits.add('taken');
    const results = await Promise.allSettled(['alone-1', 'taken', 'alone-2'].map((k) => commits.add(k)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const [row] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM group_commit_probe WHERE key IN ('alone-1', 'alone-2', 'taken')",
    );
    expect(row!.n).toBe(3);
  });

  it('fails every caller of a failed commit when writes may not be tried alone', async () => {
    const commits = new GroupCommit(db, insertKeys, { alone: false });
    const results = await Promise.allSettled(['whole-1', 'taken', 'whole-2'].map((k) => commits.add(k)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const [row] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM group_commit_probe WHERE key LIKE 'whole-%'",
    );
    expect(row!.n).toBe(0);
    await commits.drain();
  });
});
