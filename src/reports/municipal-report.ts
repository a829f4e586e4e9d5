// Reading the municipal report: a municipality reads only its own figures, research and the privacy officer any
// municipality's; the report is built from the recorded trajectories, and the reading (or the refusal) is on record.
import type { MeasureReport, Organization } from '@medplum/fhirtypes';
import type { GatewayContext } from '../context.js';
import type { Principal } from '../auth/access.js';
import { auditRead } from '../audit/record.js';
import { badRequest, forbidden } from '../fhir/outcomes.js';
import { readResource, searchResources } from '../store/resources.js';
import { trajectoriesIn } from '../store/report-trajectories.js';
import { MUNICIPALITY_SYSTEM, municipalReport } from './municipal.js';
import { parseMunicipality, type ReportPeriod } from './period.js';

type ReportContext = Pick<GatewayContext, 'db' | 'config' | 'auditWriter'>;

/** The CBS codes an organisation carries (a municipality's own). */
async function municipalityCodes(ctx: ReportContext, principal: Principal): Promise<string[]> {
  const id = principal.org.replace(/^Organization\//, '');
  const org = await readResource<Organization>(ctx.db, 'Organization', id);
  return (org?.resource.identifier ?? [])
    .filter((i) => i.system === MUNICIPALITY_SYSTEM && i.value)
    .map((i) => i.value!);
}

/**
 * The report of a municipality (asked as 0984, GM0984 or <system>|0984; a municipality gets its own without asking)
 * for a period this gateway reports by.
 */
export async function readMunicipalReport(
  ctx: ReportContext,
  principal: Principal,
  question: { period: ReportPeriod; municipality?: string },
): Promise<MeasureReport> {
  const { period } = question;
  if (!ctx.config.reportPeriods.includes(period.kind))
    throw badRequest(
      `Deze gateway rapporteert alleen per ${ctx.config.reportPeriods.join(', ')} (REPORT_PERIODS), niet per ${period.kind} / This gateway reports by ${ctx.config.reportPeriods.join(', ')} only (REPORT_PERIODS), not by ${period.kind}`,
      'period',
    );
  const own = principal.role === 'municipality' ? await municipalityCodes(ctx, principal) : [];
  const asked = question.municipality ?? (own.length === 1 ? own[0]! : '');
  const municipality = parseMunicipality(asked);
  if (!municipality)
    throw badRequest(
      `municipality moet een CBS-code van vier cijfers zijn (0984, GM0984 of ${MUNICIPALITY_SYSTEM}|0984) / municipality must be a four-digit CBS code (0984, GM0984 or ${MUNICIPALITY_SYSTEM}|0984)`,
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
      `Een gemeente ziet alleen haar eigen rapportage; ${principal.org} is niet gemeente ${municipality} / A municipality reads only its own report; ${principal.org} is not municipality ${municipality}`,
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
  return report;
}
