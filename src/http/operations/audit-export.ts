// GET /fhir/AuditEvent/$export: the audit events matching the AuditEvent search parameters as NDJSON or CSV, streamed
// in pages; the export is on record before its first event leaves, and again when it is complete or broke off.
import type { Request, Response } from 'express';
import { recordExport } from '../../audit/log-reads.js';
import { badRequest, outcome } from '../../fhir/outcomes.js';
import { neutralised } from '../../mappings/csv.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { principalOf } from '../http.js';
import { param } from '../operation-spec.js';
import { AUDIT_EXPORT_PAGE, auditExportPages, type AuditRow } from '../../audit/search.js';
import { amsterdamIso } from '../../time/amsterdam.js';

async function exportLog(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const { _format: format = 'ndjson', ...filters } = req.query;
  if (format !== 'ndjson' && format !== 'csv')
    throw badRequest('_format moet ndjson of csv zijn / _format must be ndjson or csv');
  const page = auditExportPages(ctx.db, filters);
  const query = new URLSearchParams(req.query as Record<string, string>).toString();
  const record = (outcome: 'success' | 'error', description: string) =>
    recordExport(ctx.db, principal, { outcome, description, query });
  // The first page is read before anything is sent, so a search the database refuses is still an OperationOutcome;
  // and the export is on record before its first event leaves (fail closed).
  let rows = await page(0);
  await record('success', `Audit log export as ${format} started`);
  res.status(200).type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/fhir+ndjson');
  res.set('Content-Disposition', `attachment; filename="auditevents.${format}"`);
  let sent = 0;
  try {
    if (format === 'csv') res.write(`${CSV_COLUMNS.join(',')}\n`);
    while (rows.length > 0) {
      const chunk =
        rows.map((r) => (format === 'csv' ? csvLine(r) : JSON.stringify(r.content))).join('\n') + '\n';
      if (!res.write(chunk) && !res.destroyed) await drainedOrClosed(res);
      if (res.destroyed) throw new Error('the client closed the connection');
      sent += rows.length;
      if (rows.length < AUDIT_EXPORT_PAGE) break;
      rows = await page(rows[rows.length - 1]!.seq);
    }
    // Complete only now: the record says so before the stream's end tells the client.
    await record('success', `Audit log exported as ${format}: ${sent} events, complete`);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    req.log?.error({ err }, 'audit export aborted');
    await record('error', `Audit log export as ${format} aborted after ${sent} events: ${reason}`).catch(
      (e: unknown) => req.log?.error({ err: e }, 'the aborted audit export could not be recorded'),
    );
    // A last line that says the export is incomplete, then the connection is cut without the end of the
    // response: no client can take the part for the whole.
    if (!res.destroyed) res.write(abortLine(format, sent), () => res.destroy());
    return;
  }
  res.end();
}

export const auditExportOperation = defineOperation({
  route: 'GET /fhir/AuditEvent/$export',
  permission: 'audit:read',
  summary: 'Export the (filtered) log as NDJSON or CSV, streamed',
  tag: 'Audit and oversight',
  description: 'Exports the audit events matching the AuditEvent search parameters as NDJSON or CSV.',
  input: [
    param('_format', 'code', 0, '1', 'ndjson (default) or csv'),
    param('patient:identifier', 'string', 0, '1', 'The person: <bsn-system>|<bsn>'),
    param('date', 'string', 0, '*', 'Dates with a prefix (ge, le, …), Europe/Amsterdam'),
    param('agent', 'string', 0, '1', 'The organisation or client that acted'),
    param('outcome', 'string', 0, '1', 'The outcome code'),
    param('purpose', 'string', 0, '1', 'The purpose of use'),
  ],
  returns: 'Binary',
  affectsState: false,
  handler: exportLog,
});

/** Resolves when the response may be written again, or when its connection is gone. */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The last line of an export that broke off: an OperationOutcome (NDJSON) or a row marked #error (CSV). */
function abortLine(format: 'csv' | 'ndjson', sent: number): string {
  const text = `Export afgebroken na ${sent} regels; onvolledig. / Export aborted after ${sent} events; incomplete.`;
  if (format === 'csv') return `#error,${csvField(text)}\n`;
  return `${JSON.stringify(outcome('incomplete', text))}\n`;
}

const CSV_COLUMNS = [
  'seq',
  'recorded',
  'subtype',
  'action',
  'outcome',
  'patient_bsn',
  'agent',
  'recipient',
  'purpose',
  'legal_basis',
  'description',
];

/**
 * One CSV cell. A cell that a spreadsheet would read as a formula (it starts with =, +, -, @, a tab or a carriage
 * return) gets a leading single quote, as OWASP advises against CSV injection; then the usual quoting.
 */
export function csvField(value: unknown): string {
  const raw =
    value === null || value === undefined ? '' : value instanceof Date ? amsterdamIso(value) : String(value);
  const text = neutralised(raw);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(r: AuditRow): string {
  return [
    r.seq,
    r.recorded,
    r.subtype,
    r.action,
    r.outcome,
    r.patients?.join(' ') ?? r.patient,
    r.agent_org,
    r.recipient_org,
    r.purpose,
    r.legal_basis,
    r.content.outcomeDesc,
  ]
    .map(csvField)
    .join(',');
}
