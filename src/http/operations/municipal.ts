// GET /reports/$municipal: the municipal report (a MeasureReport with small cells suppressed) for the municipality,
// research and the privacy officer; a municipality reads only its own report. Audited.
import type { Organization } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { MUNICIPALITY_SYSTEM, municipalReport } from '../../reports/municipal.js';
import { parseMunicipality, parsePeriod } from '../../reports/period.js';
import { municipalReportHtml } from '../../reports/html.js';
import { trajectoriesIn } from '../../store/report-trajectories.js';
import { readResource, searchResources } from '../../store/resources.js';
import type { Principal } from '../../auth/access.js';
import { auditRead } from '../../audit/record.js';
import { badRequest, forbidden } from '../../fhir/outcomes.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { principalOf, sendFhir, sendHtml, wantsHtml } from '../http.js';
import { param } from '../operation-spec.js';

/** The CBS codes an organisation carries (a municipality's own). */
async function municipalityCodes(ctx: HttpContext, principal: Principal): Promise<string[]> {
  const id = principal.org.replace(/^Organization\//, '');
  const org = await readResource<Organization>(ctx.db, 'Organization', id);
  return (org?.resource.identifier ?? [])
    .filter((i) => i.system === MUNICIPALITY_SYSTEM && i.value)
    .map((i) => i.value!);
}

async function municipal(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const periodText = typeof req.query.period === 'string' ? req.query.period : '';
  const period = parsePeriod(periodText);
  if (!period)
    throw badRequest(
      'period must be a year (2023), a quarter (2023-Q2), a month (2023-05) or a range of them (2005/2007)',
      'period',
    );
  if (!ctx.config.reportPeriods.includes(period.kind))
    throw badRequest(
      `This gateway reports by ${ctx.config.reportPeriods.join(', ')} only (REPORT_PERIODS), not by ${period.kind}`,
      'period',
    );
  const own = principal.role === 'municipality' ? await municipalityCodes(ctx, principal) : [];
  const asked =
    typeof req.query.municipality === 'string' ? req.query.municipality : own.length === 1 ? own[0]! : '';
  const municipality = parseMunicipality(asked);
  if (!municipality)
    throw badRequest(
      `municipality must be a four-digit CBS code (0984, GM0984 or ${MUNICIPALITY_SYSTEM}|0984)`,
      'municipality',
    );
  if (principal.role === 'municipality' && !own.includes(municipality)) {
    await auditRead(ctx, principal, {
      subtype: 'municipal-report',
      outcome: 'denied',
      description: `${principal.org} asked for the report of municipality ${municipality}, which is not its own; refused.`,
      details: { municipality, period: period.label },
    });
    throw forbidden(
      `A municipality reads only its own report; ${principal.org} is not municipality ${municipality}`,
    );
  }
  const rows = await trajectoriesIn(ctx.db, municipality, period);
  const named = await searchResources<Organization>(ctx.db, {
    type: 'Organization',
    criteria: [{ param: 'identifier', values: [{ system: MUNICIPALITY_SYSTEM, value: municipality }] }],
    count: 1,
    offset: 0,
    sort: 'asc',
    total: false,
  });
  const report = municipalReport({
    municipality,
    municipalityName: named.resources[0]?.name,
    period,
    rows,
    threshold: ctx.config.reportMinCell,
  });
  await auditRead(ctx, principal, {
    subtype: 'municipal-report',
    outcome: 'success',
    description: `${principal.org} read the municipal report of ${municipality} for ${period.label} (aggregate counts, cells below ${ctx.config.reportMinCell} suppressed).`,
    details: { municipality, period: period.label },
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
