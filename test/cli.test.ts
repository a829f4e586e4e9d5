// The command line: `ketenpoort audit verify` on a real embedded database, intact and tampered; pruning by retention.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuditEvent } from '../src/audit/audit-event.js';
import { verifyChain } from '../src/audit/chain.js';
import { appendAudits, AuditLog } from '../src/audit/log.js';
import { verifyCheckpoint } from '../src/audit/checkpoint-jws.js';
import { pruneExpired } from '../src/audit/retention.js';
import { loadCatalogue } from '../src/consent/catalogue.js';
import { loadGatewayKey } from '../src/auth/auth.js';
import { openDatabase } from '../src/store/open.js';
import { ENGINES, fhir, freshDatabase, sandboxToken, testSandbox } from './helpers.js';

const run = promisify(execFile);
const question = {
  resourceType: 'Parameters',
  parameter: [
    { name: 'recipient', valueReference: { reference: 'Organization/huisartsen-de-linde' } },
    {
      name: 'subject',
      valueIdentifier: { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910036' },
    },
    { name: 'purpose', valueCoding: { code: 'CAREMGT' } },
  ],
};

describe('ketenpoort audit verify', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ketenpoort-cli-'));
    const sandbox = await testSandbox({ dataDir: path.join(dir, 'db'), auditCheckpointEvery: 4 });
    const cjg = await sandboxToken(sandbox, 'cjg');
    for (let i = 0; i < 6; i++) await fhir(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', question);
    await sandbox.close();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) =>
    run(process.execPath, ['bin/ketenpoort.mjs', ...args], {
      env: { ...process.env, DATA_DIR: path.join(dir, 'db'), DATABASE_URL: '' },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('reports a valid chain with its checkpoints and a progress bar, exit code 0', async () => {
    const { code, stdout, stderr } = await cli('audit', 'verify');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^valid: \d+ events in 1 chain\(s\) from 1, [1-9]\d* signed checkpoints checked/);
    expect(stderr).toMatch(/\[#+\] 100%/);
  });

  it('names the first altered event and exits 1', async () => {
    const db = await openDatabase({ dataDir: path.join(dir, 'db') });
    await db.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    await db.query(
      `UPDATE audit_events SET content = jsonb_set(content::jsonb, '{outcomeDesc}', '"rewritten"') WHERE link = 3`,
    );
    await db.close();
    for (const flags of [[], ['--independent']]) {
      const { code, stdout } = await cli('audit', 'verify', ...flags);
      expect(code).toBe(1);
      expect(stdout).toMatch(/^BROKEN at chain 1 event 3 \(.+\): the content does not match its hash/);
    }
  });

  it('prints usage for an unknown command', async () => {
    const { code, stderr } = await cli('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage: ketenpoort audit verify/);
  });

  it('prints the usage on --help and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout } = await cli(flag);
      expect(code).toBe(0);
      expect(stdout).toMatch(/usage: ketenpoort audit verify/);
      expect(stdout).toMatch(/--create/);
    }
  });

  it('refuses a mistyped flag with exit 2 and prunes nothing', async () => {
    const db = await openDatabase({ dataDir: path.join(dir, 'db') });
    const [before] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    await db.close();
    const { code, stdout, stderr } = await cli('audit', 'prune', '--dryrun');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/Unknown option '--dryrun'/);
    const again = await openDatabase({ dataDir: path.join(dir, 'db') });
    const [after] = await again.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    await again.close();
    expect(after!.n).toBe(before!.n);
  });

  it('refuses an option without its value, a flag of another command and a stray argument', async () => {
    for (const args of [
      ['audit', 'verify', '--data-dir'],
      ['audit', 'verify', '--dry-run'],
      ['audit', 'verify', 'now'],
    ]) {
      const { code, stderr } = await cli(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/^ketenpoort: .+\n\nusage:/);
    }
  });

  it('refuses a database folder that does not exist instead of creating an empty one, unless asked to', async () => {
    const missing = path.join(dir, 'mistyped');
    const refused = await cli('audit', 'verify', '--data-dir', missing);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`no database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
    const created = await cli('audit', 'verify', '--data-dir', missing, '--create');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^valid: 0 events/);
  });
});

describe('bin/ketenpoort.mjs', () => {
  it('runs the compiled CLI when dist/ holds one, the source when it is newer, and says to build when neither is there', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'ketenpoort-bin-'));
    try {
      await mkdir(path.join(root, 'bin'));
      await copyFile('bin/ketenpoort.mjs', path.join(root, 'bin', 'ketenpoort.mjs'));
      const bin = (...args: string[]) =>
        run(process.execPath, [path.join(root, 'bin', 'ketenpoort.mjs'), ...args]).then(
          (r) => ({ code: 0, ...r }),
          (e: { code: number; stdout: string; stderr: string }) => e,
        );
      const missing = await bin('--help');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/run `npm run build` first/);
      await mkdir(path.join(root, 'dist', 'src'), { recursive: true });
      await writeFile(
        path.join(root, 'dist', 'src', 'cli.js'),
        'export async function main(argv) { console.log(`compiled ${argv.join(" ")}`); return 3; }\n',
      );
      const compiled = await bin('audit', 'verify');
      expect(compiled.code).toBe(3);
      expect(compiled.stdout).toBe('compiled audit verify\n');
      // A checkout whose source is newer than its build runs the source instead (here: a stand-in for src/cli.ts).
      await mkdir(path.join(root, 'src'));
      await symlink(path.resolve('node_modules'), path.join(root, 'node_modules'));
      await writeFile(path.join(root, 'package.json'), '{ "type": "module" }\n');
      await writeFile(
        path.join(root, 'src', 'cli.ts'),
        'export async function main(argv: string[]): Promise<number> { console.log(`source ${argv.join(" ")}`); return 4; }\n',
      );
      const hourAgo = new Date(Date.now() - 3600_000);
      await utimes(path.join(root, 'dist', 'src', 'cli.js'), hourAgo, hourAgo);
      const fresh = await bin('audit', 'prune');
      expect(fresh.code).toBe(4);
      expect(fresh.stdout).toBe('source audit prune\n');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe.each(ENGINES)('pruning by retention on %s', (engine) => {
  it('removes only expired events from the start, records the pruning, and leaves a chain that verifies', async () => {
    const { db: opened, drop } = await freshDatabase(engine);
    try {
      const sandbox = await testSandbox({ auditCheckpointEvery: 3 }, opened);
      const cjg = await sandboxToken(sandbox, 'cjg');
      for (let i = 0; i < 5; i++) await fhir(sandbox.url, cjg, 'POST', '/fhir/$consent-decision', question);
      await sandbox.close();
      const key = await loadGatewayKey(opened);
      const db = opened.withServices(new AuditLog({ checkpoints: { every: 3, key } }));
      const [before] = await db.query<{ n: number; max: number }>(
        'SELECT count(*)::int AS n, max(link)::int AS max FROM audit_events',
      );
      const catalogue = loadCatalogue();
      expect(await pruneExpired(db, { catalogue, defaultYears: 20 })).toMatchObject({ pruned: 0 });
      await expect(db.query('DELETE FROM audit_events WHERE link = 1')).rejects.toThrow(/append-only/);
      const future = new Date(Date.now() + 25 * 365 * 24 * 3600 * 1000);
      expect(await pruneExpired(db, { catalogue, defaultYears: 20, now: future, dryRun: true })).toEqual({
        pruned: before!.n,
        upTo: { 1: before!.max },
        dryRun: true,
      });
      expect(await pruneExpired(db, { catalogue, defaultYears: 20, now: future })).toEqual({
        pruned: before!.n,
        upTo: { 1: before!.max },
        dryRun: false,
      });
      const rest = await db.query<{ subtype: string }>('SELECT subtype FROM audit_events');
      expect(rest.map((r) => r.subtype)).toEqual(['audit-prune']);
      const result = await verifyChain(db, {
        verifyCheckpoint: (jws) => verifyCheckpoint(jws, key.publicKey),
      });
      expect(result, JSON.stringify(result)).toMatchObject({ valid: true, count: 1, from: before!.max + 1 });
    } finally {
      await drop();
    }
  });

  it('keeps the signed prune checkpoint when the last pruned event already has a periodic one', async () => {
    const { db: opened, drop } = await freshDatabase(engine);
    try {
      const key = await loadGatewayKey(opened);
      const db = opened.withServices(new AuditLog({ checkpoints: { every: 3, key } }));
      const old = new Date(Date.UTC(2000, 0, 1));
      await db.transaction((tx) =>
        appendAudits(
          tx,
          Array.from({ length: 6 }, (_, i) =>
            buildAuditEvent({
              subtype: 'read',
              outcome: 'success',
              description: `old read ${i}`,
              requester: { org: 'Organization/cjg-venlo', clientId: 'sandbox-cjg' },
              recorded: old,
            }),
          ),
        ),
      );
      // Events 3 and 6 carry periodic checkpoints; all six expire, so the prune ends on a checkpointed position.
      const result = await pruneExpired(db, { catalogue: loadCatalogue(), defaultYears: 20 });
      expect(result).toMatchObject({ pruned: 6, upTo: { 1: 6 } });
      const [mark] = await db.query<{ kind: string }>(
        'SELECT kind FROM audit_checkpoints WHERE chain = 1 AND link = 6',
      );
      expect(mark!.kind).toBe('prune');
      expect(
        await verifyChain(db, { verifyCheckpoint: (jws) => verifyCheckpoint(jws, key.publicKey) }),
      ).toMatchObject({ valid: true, count: 1, from: 7 });
    } finally {
      await drop();
    }
  });
});
