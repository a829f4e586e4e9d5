// The ketenpoort command line: `ketenpoort audit verify` and `ketenpoort audit prune` against the configured database.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from './audit/log.js';
import { verifyCheckpoint } from './audit/checkpoint-jws.js';
import { verifyChain } from './audit/chain.js';
import { pruneExpired } from './audit/retention.js';
import { loadConfig } from './config.js';
import { loadCatalogue } from './consent/catalogue.js';
import { loadGatewayKey } from './auth/auth.js';
import type { Database } from './store/database.js';
import { openDatabase } from './store/open.js';

const USAGE = `usage: ketenpoort audit verify [--independent] [database options]
         verify the audit log's hash chain and signed checkpoints
         --independent     recompute every hash here, not in the database
       ketenpoort audit prune [--dry-run] [database options]
         remove audit metadata whose retention has expired (audited)
         --dry-run         only report what would be pruned
       ketenpoort --help

database options:
  --database-url URL  PostgreSQL connection string (default: DATABASE_URL)
  --data-dir DIR      folder of the embedded database (default: DATA_DIR, else ./data/db)
  --create            create the embedded database when DIR holds none (otherwise that is an error)`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  independent: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'database-url': { type: 'string' },
  'data-dir': { type: 'string' },
  create: { type: 'boolean' },
} as const;

/** The flags each command accepts; any other one is a mistake, never silently ignored. */
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  verify: ['independent'],
  prune: ['dry-run'],
};
const DATABASE_FLAGS = ['database-url', 'data-dir', 'create'];

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean;
};

/** A usage mistake: printed with the usage, exit code 2. */
class UsageError extends Error {}

function parse(argv: string[]): { help: boolean; command?: string; values: Values } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Values;
  if (values.help || parsed.positionals[0] === 'help') return { help: true, values };
  const [area, command, ...rest] = parsed.positionals;
  if (area !== 'audit' || !command || !(command in COMMAND_FLAGS))
    throw new UsageError(
      area === undefined
        ? 'no command given'
        : `unknown command "${[area, command].filter(Boolean).join(' ')}"`,
    );
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  for (const flag of Object.keys(values))
    if (!COMMAND_FLAGS[command]!.includes(flag) && !DATABASE_FLAGS.includes(flag))
      throw new UsageError(`option --${flag} does not belong to "audit ${command}"`);
  return { help: false, command, values };
}

/** PGlite keeps a PostgreSQL data folder; without its PG_VERSION file the folder holds no database. */
function hasEmbeddedDatabase(dir: string): boolean {
  return existsSync(path.join(dir, 'PG_VERSION'));
}

async function open(values: Values): Promise<Database> {
  const config = loadConfig();
  const databaseUrl = values['database-url'] ?? config.databaseUrl;
  const dataDir = values['data-dir'] ?? config.dataDir;
  if (!databaseUrl && !dataDir.startsWith('memory://') && !hasEmbeddedDatabase(dataDir) && !values.create)
    throw new UsageError(
      `no database at ${path.resolve(dataDir)} (check DATA_DIR or --data-dir; add --create to start an empty one)`,
    );
  return openDatabase({ databaseUrl, dataDir });
}

function progressBar(done: number, total: number): void {
  const width = 30;
  const share = total > 0 ? Math.min(done / total, 1) : 1;
  const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
  const line = `[${bar}] ${(share * 100).toFixed(0).padStart(3)}%  ${done.toLocaleString('en')}/${total.toLocaleString('en')} events`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
  else if (done === total || done % 100_000 < 5000) process.stderr.write(`${line}\n`);
}

async function verify(db: Database, independent: boolean): Promise<number> {
  const key = await loadGatewayKey(db);
  const started = performance.now();
  const result = await verifyChain(db, {
    onProgress: progressBar,
    verifyCheckpoint: (jws) => verifyCheckpoint(jws, key.publicKey),
    recompute: independent ? 'verifier' : 'database',
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (result.valid) {
    console.log(
      `valid: ${result.count} events in ${result.chains} chain(s) from ${result.from}, ${result.checkpoints} signed checkpoints checked (${seconds} s)`,
    );
    return 0;
  }
  const first = result.firstInvalid!;
  console.log(
    `BROKEN at chain ${first.chain} event ${first.seq}${first.id ? ` (${first.id})` : ''}: ${first.problem}`,
  );
  console.log(`${result.count} events before it verified (${seconds} s)`);
  return 1;
}

async function prune(db: Database, dryRun: boolean): Promise<number> {
  const config = loadConfig();
  const log = new AuditLog({
    chains: config.auditChains,
    checkpoints: { every: config.auditCheckpointEvery, key: await loadGatewayKey(db) },
  });
  const result = await pruneExpired(db.withServices(log), {
    catalogue: loadCatalogue(),
    defaultYears: config.auditRetentionYears,
    dryRun,
  });
  console.log(
    result.pruned === 0
      ? 'nothing to prune: no expired events at the start of the log'
      : `${result.dryRun ? 'would prune' : 'pruned'} ${result.pruned} events (${Object.entries(result.upTo)
          .map(([chain, link]) => `chain ${chain} up to ${link}`)
          .join(', ')})`,
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let db: Database | undefined;
  try {
    const { help, command, values } = parse(argv);
    if (help) {
      console.log(USAGE);
      return 0;
    }
    db = await open(values);
    return command === 'verify'
      ? await verify(db, !!values.independent)
      : await prune(db, !!values['dry-run']);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`ketenpoort: ${err.message}\n\n${USAGE}`);
    return 2;
  } finally {
    await db?.close();
  }
}

if (process.argv[1] && /cli\.(ts|js)$/.test(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
