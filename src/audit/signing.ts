// Gives a database the gateway key's checkpoint signer, so that audit appends write signed checkpoints.
import type { Database } from '../store/database.js';
import type { CheckpointPayload } from './chain.js';
import { signCheckpoint, type CheckpointKey } from './checkpoint-jws.js';

export function configureAuditSigning(
  db: Database,
  key: CheckpointKey,
  every: number,
  chains?: number,
): void {
  Object.assign(db.context ?? {}, {
    auditCheckpoints: { every: Math.max(every, 1), sign: (p: CheckpointPayload) => signCheckpoint(key, p) },
    ...(chains === undefined ? {} : { auditChains: chains }),
  });
}
