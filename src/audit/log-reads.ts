// Reads of the audit log itself are on record: a verification of the hash chains with its verdict, an export when it
// starts and when it is complete or broke off. Each is written in a transaction of its own.
import type { Logger } from 'pino';
import type { Database } from '../store/database.js';
import type { VerifyResult } from './chain.js';
import { audit, type AuditRequester } from './record.js';

/**
 * Puts a verification of the chains on record; whether that worked. A broken log may refuse new appends (a forged row
 * in the way): then the failure is logged and the verdict is reported all the same; on a valid log it is thrown.
 */
export async function recordVerification(
  db: Pick<Database, 'transaction'>,
  requester: AuditRequester,
  result: Pick<VerifyResult, 'valid' | 'count'>,
  logger: Pick<Logger, 'error'>,
): Promise<boolean> {
  return db
    .transaction((tx) =>
      audit(tx, requester, {
        subtype: 'audit-read',
        outcome: 'success',
        description: `Audit chain verified: ${result.valid ? 'valid' : 'BROKEN'} over ${result.count} events`,
      }),
    )
    .then(() => true)
    .catch((err: unknown) => {
      if (result.valid) throw err;
      logger.error({ err }, 'the audit log is broken and this verification could not be recorded');
      return false;
    });
}

/** Puts a moment of an export of the log on record (started, complete, aborted), with the query it answers. */
export async function recordExport(
  db: Pick<Database, 'transaction'>,
  requester: AuditRequester,
  record: { outcome: 'success' | 'error'; description: string; query: string },
): Promise<string> {
  const { outcome, description, query } = record;
  return db.transaction((tx) =>
    audit(tx, requester, { subtype: 'audit-read', outcome, description, details: { query } }),
  );
}
