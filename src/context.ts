// Everything a request handler needs, built once at start-up.
import type { AuditWriter } from './audit/writer.js';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './store/database.js';
import type { Authenticator, GatewayKey } from './auth/auth.js';
import type { Capabilities } from './http/capabilities.js';
import type { DeliveryWorker } from './exchange/delivery.js';

export interface GatewayContext {
  config: Config;
  db: Database;
  auth: Authenticator;
  key: GatewayKey;
  logger: Logger;
  caps: Capabilities;
  delivery: DeliveryWorker;
  /** Group commit for audit records of reads and searches. */
  auditWriter: AuditWriter;
  version: string;
}
