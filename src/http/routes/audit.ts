// The audit log for privacy officers: search, read and chain verification; every read of the log is itself audited.
import { neutralised } from '../../mappings/csv.js';
import type { Parameters } from '@medplum/fhirtypes';
import type { Response, Router } from 'express';
import { verifyChain } from '../../audit/chain.js';
import { verifyCheckpoint } from '../../audit/checkpoint-jws.js';
import {
  AUDIT_EXPORT_PAGE,
  AUDIT_SEARCH,
  auditExportPages,
  readAuditEvent,
  searchAuditEvents,
  type AuditRow,
} from '../../audit/search.js';
import { amsterdamIso } from '../../time/amsterdam.js';
import type { HttpContext } from '../context.js';
import { baseUrlOf, principalOf, sendFhir } from '../http.js';
import { demand } from '../../auth/access.js';
import { audit } from '../../audit/record.js';
import { badRequest, notFound, outcome } from '../../fhir/outcomes.js';
import { searchBundle } from '../search-bundle.js';

export function auditRoutes(ctx: HttpContext, router: Router): void {
  const tag = 'Audit and oversight';
  ctx.caps.interaction('AuditEvent', 'search-type', {
    method: 'get',
    path: '/fhir/AuditEvent',
    summary: 'Search the audit log (privacy officers)',
    tag,
  });
  ctx.caps.interaction('AuditEvent', 'read', {
    method: 'get',
    path: '/fhir/AuditEvent/:id',
    summary: 'Read one audit event (privacy officers)',
    tag,
  });
  ctx.caps.typeOperation('AuditEvent', 'verify', {
    method: 'get',
    path: '/fhir/AuditEvent/$verify',
    summary: 'Verify the hash chain of the audit log',
    tag,
  });
  for (const [name, type] of Object.entries(AUDIT_SEARCH)) ctx.caps.searchParam('AuditEvent', name, type);

  router.get('/AuditEvent/\\$verify', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    // Asked for NDJSON, the walk is streamed: a progress line now and then, the Parameters as the last line.
    const streamed = /application\/x-ndjson/.test(req.get('accept') ?? '');
    if (streamed) {
      res.status(200).type('application/x-ndjson').set('Cache-Control', 'no-store');
      res.flushHeaders();
    }
    let lastSent = 0;
    const progress = (checked: number, total: number) => {
      if (!streamed || res.destroyed || (checked - lastSent < 500 && checked < total)) return;
      lastSent = checked;
      res.write(`${JSON.stringify({ checked, total })}\n`);
    };
    const result = await verifyChain(ctx.db, {
      verifyCheckpoint: (jws) => verifyCheckpoint(jws, ctx.key.publicKey),
      onProgress: progress,
    }).catch((err: unknown) => {
      if (!streamed) throw err;
      req.log?.error({ err }, 'the audit chain could not be verified');
      res.end(`${JSON.stringify(outcome('exception', VERIFY_FAILED))}\n`);
      return undefined;
    });
    if (!result) return;
    // A broken log may refuse new appends (a forged row in the way); the verdict is reported all the same.
    const recorded = await ctx.db
      .transaction((tx) =>
        audit(tx, principal, {
          subtype: 'audit-read',
          outcome: 'success',
          description: `Audit chain verified: ${result.valid ? 'valid' : 'BROKEN'} over ${result.count} events`,
        }),
      )
      .then(() => true)
      .catch((err: unknown) => {
        if (result.valid) throw err;
        ctx.logger.error({ err }, 'the audit log is broken and this verification could not be recorded');
        return false;
      });
    const parameter: NonNullable<Parameters['parameter']> = [
      { name: 'valid', valueBoolean: result.valid },
      { name: 'recorded', valueBoolean: recorded },
      { name: 'count', valueInteger: result.count },
      { name: 'checkpoints', valueInteger: result.checkpoints },
      { name: 'from', valueInteger: result.from },
      { name: 'chains', valueInteger: result.chains },
    ];
    if (result.firstInvalid) {
      parameter.push({
        name: 'firstInvalid',
        part: [
          { name: 'chain', valueInteger: result.firstInvalid.chain },
          { name: 'sequence', valueInteger: result.firstInvalid.seq },
          { name: 'id', valueString: result.firstInvalid.id },
          { name: 'problem', valueString: result.firstInvalid.problem },
        ],
      });
    }
    const answer: Parameters = { resourceType: 'Parameters', parameter };
    if (streamed) res.end(`${JSON.stringify(answer)}\n`);
    else sendFhir(res, 200, answer);
  });

  ctx.caps.typeOperation('AuditEvent', 'export', {
    method: 'get',
    path: '/fhir/AuditEvent/$export',
    summary: 'Export the (filtered) log as NDJSON or CSV, streamed',
    tag,
  });
  router.get('/AuditEvent/\\$export', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    const { _format: format = 'ndjson', ...filters } = req.query;
    if (format !== 'ndjson' && format !== 'csv') throw badRequest('_format must be ndjson or csv');
    const page = auditExportPages(ctx.db, filters);
    const query = new URLSearchParams(req.query as Record<string, string>).toString();
    const record = (outcome: 'success' | 'error', description: string) =>
      ctx.db.transaction((tx) =>
        audit(tx, principal, { subtype: 'audit-read', outcome, description, details: { query } }),
      );
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
  });

  router.get('/AuditEvent/:id', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    const event = await readAuditEvent(ctx.db, req.params.id);
    if (!event) throw notFound(`AuditEvent/${req.params.id} is not known`);
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        subtype: 'audit-read',
        outcome: 'success',
        description: `Audit event ${req.params.id} read`,
        entities: [{ reference: `AuditEvent/${req.params.id}` }],
      }),
    );
    sendFhir(res, 200, event);
  });

  router.get('/AuditEvent', async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'audit:read');
    const { count, offset, total, events } = await searchAuditEvents(ctx.db, req.query);
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        subtype: 'audit-read',
        outcome: 'success',
        description: `Audit log searched: ${events.length} of ${total} events`,
        details: { query: new URLSearchParams(req.query as Record<string, string>).toString() },
      }),
    );
    const result = { total, resources: events };
    sendFhir(
      res,
      200,
      searchBundle(baseUrlOf(ctx, req), '/fhir/AuditEvent', req.query, result, count, offset),
    );
  });
}

const VERIFY_FAILED =
  'De controle van het logboek is afgebroken door een fout; probeer het later opnieuw. / The verification broke off with an error; try again later.';

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
