// The ketenpoort command line: `ketenpoort audit verify` and `ketenpoort audit prune` against the configured database.
import { configureAuditSigning } from './audit/signing.js';
import { verifyCheckpoint } from './audit/checkpoint-jws.js';
import { verifyChain } from './audit/chain.js';
import { pruneExpired } from './audit/retention.js';
import { loadConfig } from './config.js';
import { loadCatalogue } from './consent/catalogue.js';
import { loadGatewayKey } from './gateway/auth.js';
import { openDatabase } from './store/database.js';

const USAGE = `usage: ketenpoort audit verify [--independent]  verify the audit log's hash chain and signed checkpoints
                                             (--independent: recompute every hash here, not in the database)
       ketenpoort audit prune [--dry-run] remove audit metadata whose retention has expired (audited)

The database is DATABASE_URL (PostgreSQL) or DATA_DIR (embedded, default ./data/db).`;

function progressBar(done: number, total: number): void {
  const width = 30;
  const share = total > 0 ? Math.min(done / total, 1) : 1;
  const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
  const line = `[${bar}] ${(share * 100).toFixed(0).padStart(3)}%  ${done.toLocaleString('en')}/${total.toLocaleString('en')} events`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
  else if (done === total || done % 100_000 < 5000) process.stderr.write(`${line}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const [area, command, ...flags] = argv;
  if (area !== 'audit' || (command !== 'verify' && command !== 'prune')) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const key = await loadGatewayKey(db);
    if (command === 'verify') {
      const started = performance.now();
      const result = await verifyChain(db, {
        onProgress: progressBar,
        verifyCheckpoint: (jws) => verifyCheckpoint(jws, key.publicKey),
        recompute: flags.includes('--independent') ? 'verifier' : 'database',
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (result.valid) {
        console.log(
          `valid: ${result.count} events in ${result.chains} chain(s) from ${result.from}, ${result.checkpoints} signed checkpoints checked (${seconds} s)`,
        );
        return 0;
      }
      console.log(
        `BROKEN at chain ${result.firstInvalid!.chain} event ${result.firstInvalid!.seq}${result.firstInvalid!.id ? ` (${result.firstInvalid!.id})` : ''}: ${result.firstInvalid!.problem}`,
      );
      console.log(`${result.count} events before it verified (${seconds} s)`);
      return 1;
    }
    configureAuditSigning(db, key, config.auditCheckpointEvery, config.auditChains);
    const result = await pruneExpired(db, {
      catalogue: loadCatalogue(),
      defaultYears: config.auditRetentionYears,
      dryRun: flags.includes('--dry-run'),
    });
    console.log(
      result.pruned === 0
        ? 'nothing to prune: no expired events at the start of the log'
        : `${result.dryRun ? 'would prune' : 'pruned'} ${result.pruned} events (${Object.entries(result.upTo)
            .map(([chain, link]) => `chain ${chain} up to ${link}`)
            .join(', ')})`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

if (process.argv[1] && /cli\.(ts|js)$/.test(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
