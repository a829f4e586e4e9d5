// Starts a gateway: database and migrations, keys and clients, the HTTP server and the delivery worker.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { AppExtensions, createApp } from './http/app.js';
import { answerClientError } from './http/client-error.js';
import { safeError } from './http/safe-error.js';
import { Authenticator, loadGatewayKey } from './auth/auth.js';
import { registerClients } from './store/clients.js';
import { ClientKeys } from './auth/client-keys.js';
import { Capabilities } from './http/capabilities.js';
import { readClientsFile } from './auth/clients-file.js';
import type { HttpContext } from './http/context.js';
import { systemClock } from './time/clock.js';
import { DecisionFactsStore } from './person-index/decision-facts.js';
import { runDecision } from './exchange/decisions.js';
import { auditExplanation } from './exchange/reasons.js';
import { DeliveryWorker } from './exchange/delivery.js';
import { startAgeTransitionSweep } from './person-index/age-transitions.js';
import { checkCovenants } from './exchange/decide-options.js';
import { AuditLog } from './audit/log.js';
import { AuditWriter } from './audit/writer.js';
import { writeAccepted } from './exchange/accepted.js';
import { GroupCommit } from './store/group-commit.js';
import { refusalLog } from './http/refusals.js';
import { loadStructureSchema } from './mappings/structure.js';
import type { Database } from './store/database.js';
import { openDatabase } from './store/open.js';

export const VERSION = '0.1.0';

export interface RunningGateway {
  url: string;
  ctx: HttpContext;
  server: Server;
  close(): Promise<void>;
}

export interface StartOptions extends AppExtensions {
  logger?: Logger;
  /** Use this database instead of opening one (tests share one across restarts). */
  db?: Database;
  /** Runs after the server listens and before the worker starts (sandbox seeding needs the URL). */
  onListening?: (gateway: RunningGateway) => Promise<void>;
}

/** The address a bound server is reached at: `localhost` for a wildcard bind, else the address itself. */
export function listeningUrl(address: AddressInfo): string {
  const wildcard = ['::', '0.0.0.0', '::ffff:0.0.0.0'].includes(address.address);
  const host = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export async function startGateway(config: Config, opts: StartOptions = {}): Promise<RunningGateway> {
  if (!config.baseUrl && !config.sandbox && !config.testMode) {
    // The token audience and every link come from BASE_URL; without it a client could choose them (Host header).
    throw new Error(
      'configuration: BASE_URL is required (the public URL of this gateway, e.g. https://ketenpoort.example.nl); only the sandbox and tests derive it from the listening address',
    );
  }
  const logger = opts.logger ?? pino({ level: config.logLevel, serializers: { err: safeError } });
  checkCovenants(config);
  const opened =
    opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  // The fast validation's schema; the full R4 definitions wait for the first full validation (mappings/structure.ts).
  loadStructureSchema();
  const key = await loadGatewayKey(opened);
  // This gateway's audit log, on every transaction of the handle its services use (src/audit/log.ts).
  const db = opened.withServices(
    new AuditLog({
      chains: config.auditChains,
      checkpoints: { every: config.auditCheckpointEvery, key },
    }),
  );
  if (config.clientsFile) await registerClients(db, await readClientsFile(config.clientsFile));
  const auditWriter = new AuditWriter(db);
  const ctx: HttpContext = {
    config,
    db,
    key,
    logger,
    version: VERSION,
    clock: config.clock ?? systemClock,
    auth: new Authenticator(
      db,
      key,
      config.tokenTtlSeconds,
      new ClientKeys({ cacheSeconds: config.jwksCacheSeconds, cooldownSeconds: config.jwksCooldownSeconds }),
    ),
    caps: new Capabilities(),
    facts: new DecisionFactsStore(db),
    auditWriter,
    acceptedExchanges: new GroupCommit(db, writeAccepted),
    refusals: refusalLog(auditWriter),
    delivery: new DeliveryWorker(db, logger, {
      pollMs: config.deliveryPollMs,
      retryBaseMs: config.deliveryRetryBaseMs,
      inProgressAfterMs: config.deliveryInProgressAfterMs,
      batchSize: config.deliveryBatch,
      retryMaxMs: config.deliveryRetryMaxMs,
      timeoutMs: config.agencyTimeoutMs,
      recheck: async ({ request, subject, principal }) => {
        // The re-check at send time decides at that moment, on the process's clock.
        const run = await runDecision(ctx, principal, request, subject, { at: ctx.clock() });
        return { decision: run.decision.decision, explanation: auditExplanation(run.decision) };
      },
    }),
  };
  const app = createApp(ctx, opts);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, () => resolve(s));
    s.once('error', reject);
    s.on('clientError', answerClientError);
  });
  const url = config.baseUrl || listeningUrl(server.address() as AddressInfo);
  ctx.config = { ...config, baseUrl: url };
  let stopSweep = () => {};
  const gateway: RunningGateway = {
    url,
    ctx,
    server,
    async close() {
      stopSweep();
      await ctx.delivery.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ctx.acceptedExchanges.drain();
      await ctx.auditWriter.drain();
      if (!opts.db) await db.close();
    },
  };
  await opts.onListening?.(gateway);
  ctx.delivery.start();
  stopSweep = startAgeTransitionSweep(db, ctx.config, logger);
  logger.info({ url, database: db.engine }, 'gateway listening');
  return gateway;
}
