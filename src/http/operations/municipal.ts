// GET /reports/$municipal: the municipal report (a MeasureReport with small cells suppressed) for the municipality,
// research and the privacy officer; a municipality reads only its own report. Audited.
import type { Request, Response } from 'express';
import { parsePeriod } from '../../reports/period.js';
import { municipalReportHtml } from '../../reports/html.js';
import { readMunicipalReport } from '../../reports/municipal-report.js';
import { badRequest } from '../../fhir/outcomes.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { principalOf, sendFhir, sendHtml, wantsHtml } from '../http.js';
import { param } from '../operation-spec.js';

async function municipal(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const periodText = typeof req.query.period === 'string' ? req.query.period : '';
  const period = parsePeriod(periodText);
  if (!period)
    throw badRequest(
      'period moet een jaar (2023), een kwartaal (2023-Q2), een maand (2023-05) of een reeks daarvan (2005/2007) zijn / period must be a year (2023), a quarter (2023-Q2), a month (2023-05) or a range of them (2005/2007)',
      'period',
    );
  const report = await readMunicipalReport(ctx, principal, {
    period,
    municipality: typeof req.query.municipality === 'string' ? req.query.municipality : undefined,
  });
  if (wantsHtml(req)) {
    sendHtml(res, municipalReportHtml(report));
    return;
  }
  sendFhir(res, 200, report);
}

export const municipalOperation = defineOperation({
  route: 'GET /reports/$municipal',
  permission: 'report:read',
  summary:
    'Municipal report (MeasureReport, summary): in care, inflow by referral source, outflow by closure reason, open, throughput time, life domains; small cells suppressed',
  tag: 'Reports',
  description: 'The municipal report of a period: aggregate counts with small cells suppressed.',
  input: [
    param(
      'period',
      'string',
      1,
      '1',
      'A year (2023), quarter (2023-Q2), month (2023-05) or a range of them (2005/2007); see REPORT_PERIODS',
    ),
    param(
      'municipality',
      'string',
      0,
      '1',
      'CBS code: 0984, GM0984 or https://ketenpoort.nl/fhir/NamingSystem/cbs-gemeentecode|0984; a municipality gets its own without it',
    ),
  ],
  returns: 'MeasureReport',
  affectsState: false,
  handler: municipal,
});
