// The one way to put an access on record: in the caller's transaction (an exchange, a write) or through the
// group-commit writer (reads and searches, answered once their record is committed). Everything else builds inputs.
import { buildAuditEvent, type AuditInput } from './audit-event.js';
import { appendAudits } from './log.js';
import type { Queryable } from '../store/database.js';
import type { AuditWriter } from './writer.js';

/** Who asked: the calling organisation and client (an authenticated principal has both). */
export interface AuditRequester {
  org: string;
  clientId: string;
}

export type AuditRecord = Omit<AuditInput, 'requester'> & {
  practitioner?: AuditInput['requester']['practitioner'];
};

function itemOf(requester: AuditRequester, input: AuditRecord) {
  const { practitioner, ...rest } = input;
  return buildAuditEvent({
    ...rest,
    requester: { org: requester.org, clientId: requester.clientId, practitioner },
  });
}

/** Records a read or search through the group-commit writer; resolves once the record is committed. */
export async function auditRead(
  ctx: { auditWriter: AuditWriter },
  requester: AuditRequester,
  input: AuditRecord,
): Promise<string> {
  return (await ctx.auditWriter.append(itemOf(requester, input))).id!;
}

/** Writes one AuditEvent in the caller's transaction. */
export async function audit(tx: Queryable, requester: AuditRequester, input: AuditRecord): Promise<string> {
  return (await auditAll(tx, [{ requester, input }]))[0]!;
}

/** Writes several AuditEvents in the caller's transaction, in one statement; returns their ids in order. */
export async function auditAll(
  tx: Queryable,
  records: { requester: AuditRequester; input: AuditRecord }[],
): Promise<string[]> {
  if (records.length === 0) return [];
  const stored = await appendAudits(
    tx,
    records.map((r) => itemOf(r.requester, r.input)),
  );
  return stored.map((e) => e.id!);
}
