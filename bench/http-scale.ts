// The store the HTTP benchmark's gateway starts on: the sandbox fixtures only (in memory, or the fresh PostgreSQL
// database as it is), or with BENCH_PEOPLE / BENCH_AUDIT_EVENTS a store seeded beforehand (bench/scale-seed.ts): a fresh
// PGlite data directory under the system's temporary folder, or the fresh PostgreSQL database. The sandbox loads its
// fixtures on top as usual; Noah stays the person the load asks about.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/store/open.js';
import { seedScale, scaleFromEnv, type ScaleResult } from './scale-seed.js';

export interface BenchStore {
  /** The gateway's environment: DATA_DIR or DATABASE_URL. */
  env: Record<string, string>;
  /** What the table says about the store. */
  label: string;
  seeded?: ScaleResult;
  drop(): Promise<void>;
}

export const scale = scaleFromEnv(process.env);

const fmt = (n: number) => n.toLocaleString('en-US');

export function describeSeed(r: ScaleResult): string {
  return `${fmt(r.people)} synthetic people in ${fmt(r.families)} families (${fmt(r.resources)} resources) and ${fmt(r.auditEvents)} audit events`;
}

/** The store for one engine; `databaseUrl` is the fresh PostgreSQL database, absent for PGlite. */
export async function benchStore(engine: 'PGlite' | 'PostgreSQL', databaseUrl?: string): Promise<BenchStore> {
  if (!scale) {
    return {
      env: databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: 'memory://' },
      label: 'fixtures',
      drop: async () => undefined,
    };
  }
  const dataDir = databaseUrl ? undefined : await mkdtemp(path.join(tmpdir(), 'ketenpoort-bench-'));
  console.log(
    `  seeding ${engine}${dataDir ? ` in ${dataDir}` : ''}: ${fmt(scale.people)} people, ${fmt(scale.auditEvents)} audit events`,
  );
  const db = await openDatabase({ databaseUrl, dataDir });
  let seeded: ScaleResult;
  try {
    seeded = await seedScale(db, scale);
  } finally {
    await db.close();
  }
  const total = seeded.seconds.resources + seeded.seconds.audit + seeded.seconds.analyze;
  console.log(
    `  ${engine} store: ${describeSeed(seeded)}, ${fmt(Math.round(seeded.bytes / 2 ** 20))} MiB; seeded in ${total.toFixed(0)} s (people ${seeded.seconds.resources.toFixed(0)} s, audit ${seeded.seconds.audit.toFixed(0)} s, ANALYZE ${seeded.seconds.analyze.toFixed(0)} s)`,
  );
  return {
    env: databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir! },
    label: `${fmt(seeded.people)} people, ${fmt(seeded.auditEvents)} audit events`,
    seeded,
    drop: async () => {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
