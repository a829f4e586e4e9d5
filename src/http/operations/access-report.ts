// GET /fhir/Patient/$access-report: for privacy officers, for the person (12 and over), and for parents with gezag of a child under 16.
import type { Request, Response } from 'express';
import { reportHtml } from '../../audit/access-report.js';
import { BSN_SYSTEM } from '../../consent/constants.js';
import { isValidBsn } from '../../mappings/bsn.js';
import { accessReport } from '../../exchange/access-report.js';
import type { HttpContext } from '../context.js';
import { baseUrlOf, principalOf, sendFhir, sendHtml, wantsHtml } from '../http.js';
import { badRequest } from '../../fhir/outcomes.js';
import { defineOperation } from '../define-operation.js';
import { personIdentifier } from '../operation-spec.js';

/** The person an overview is about: the BSN of its `identifier` query parameter (`<bsn-system>|<bsn>` or the BSN). */
export function askedBsn(req: Request): string {
  const identifier = typeof req.query.identifier === 'string' ? req.query.identifier : '';
  const [system, bsn] = identifier.includes('|') ? identifier.split('|', 2) : [BSN_SYSTEM, identifier];
  if (system !== BSN_SYSTEM || !bsn || !isValidBsn(bsn))
    throw badRequest(`identifier moet ${BSN_SYSTEM}|<BSN> zijn / identifier must be ${BSN_SYSTEM}|<BSN>`);
  return bsn;
}

export async function readAccessReport(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const at = ctx.clock();
  const bsn = askedBsn(req);
  const { events, lines } = await accessReport(ctx.db, principal, bsn, at);
  if (wantsHtml(req)) {
    sendHtml(res, reportHtml(bsn, lines, at));
    return;
  }
  const base = baseUrlOf(ctx, req);
  sendFhir(res, 200, {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: at.toISOString(),
    identifier: { system: BSN_SYSTEM, value: bsn },
    entry: events.map((e, i) => ({
      fullUrl: `${base}/fhir/AuditEvent/${e.id}`,
      resource: {
        ...e,
        // The report shows each line's reader in plain words; the event itself stays as logged.
        extension: [
          {
            url: 'https://ketenpoort.nl/fhir/StructureDefinition/access-report-line',
            valueString: `${lines[i]!.organisationName} ${lines[i]!.action} (${lines[i]!.purpose}; ${lines[i]!.basis}; ${lines[i]!.outcome})`,
          },
        ],
      },
    })),
  });
}

export const accessReportOperation = defineOperation({
  route: 'GET /fhir/Patient/$access-report',
  permission: 'access-report',
  summary: "Who received or read a person's data (FHIR or Accept: text/html)",
  tag: 'Audit and oversight',
  description: "Who received or read a person's data, when, for what purpose and on which basis.",
  input: [personIdentifier],
  returns: 'Bundle',
  affectsState: false,
  handler: readAccessReport,
});
