// The services every use case may need, built once at start-up (server.ts). The HTTP layer adds its route registry
// (src/http/context.ts).
import type { AuditWriter } from './audit/writer.js';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './store/database.js';
import type { Clock } from './time/clock.js';
import type { Authenticator, GatewayKey } from './auth/auth.js';
import type { DeliveryWorker } from './exchange/delivery.js';
import type { DecisionFactsStore } from './person-index/decision-facts.js';
import type { GroupCommit } from './store/group-commit.js';
import type { AcceptedIds, AcceptedWrite } from './exchange/accepted.js';

export interface GatewayContext {
  config: Config;
  db: Database;
  auth: Authenticator;
  key: GatewayKey;
  logger: Logger;
  delivery: DeliveryWorker;
  /** Group commit for audit records of reads and searches. */
  auditWriter: AuditWriter;
  /** Group commit for the writes of accepted exchanges (src/exchange/accepted.ts). */
  acceptedExchanges: GroupCommit<AcceptedWrite, AcceptedIds>;
  version: string;
  /** The moment a request acts at (decisions, Tasks, audit search windows): read once per request. */
  clock: Clock;
  /** The facts decisions rest on, kept in memory for one fact version (valid across processes). */
  facts: DecisionFactsStore;
}
