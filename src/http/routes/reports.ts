// Aggregate reporting: coordinating agencies record their trajectories (POST /reports/$record-trajectory, nothing that
// identifies the family is kept), and the municipality, research and the privacy officer read the municipal report
// (GET /reports/$municipal, a MeasureReport with small cells suppressed). Both are audited; a municipality reads only
// its own report.
import express, { type Request, type Response, type Router } from 'express';
import type { EpisodeOfCare, Organization } from '@medplum/fhirtypes';
import { checkFhir } from '../../mappings/validate.js';
import { accepted } from '../../fhir/verdict.js';
import { MUNICIPALITY_SYSTEM, municipalMeasure, municipalReport } from '../../reports/municipal.js';
import { parseMunicipality, parsePeriod } from '../../reports/period.js';
import { reportTrajectory, trajectoryKey } from '../../reports/trajectory.js';
import { municipalReportHtml } from '../../reports/html.js';
import { recordTrajectory, removeTrajectory, trajectoriesIn } from '../../reports/store.js';
import { readResource, searchResources } from '../../store/resources.js';
import type { Permission, Principal } from '../../auth/access.js';
import type { RouteDoc } from '../capabilities.js';
import type { HttpContext } from '../context.js';
import { principalOf, requireToken, sendFhir } from '../http.js';
import { demand } from '../../auth/access.js';
import { audit, auditRead } from '../../audit/record.js';
import { badRequest, forbidden, informational, notFound, unprocessable } from '../../fhir/outcomes.js';
import { OperationInput } from '../parameters.js';

const TAG = 'Reports';

/** The CBS codes an organisation carries (a municipality's own). */
async function municipalityCodes(ctx: HttpContext, principal: Principal): Promise<string[]> {
  const id = principal.org.replace(/^Organization\//, '');
  const org = await readResource<Organization>(ctx.db, 'Organization', id);
  return (org?.resource.identifier ?? [])
    .filter((i) => i.system === MUNICIPALITY_SYSTEM && i.value)
    .map((i) => i.value!);
}

/** GET /fhir/Measure/municipal-report: the definition the reports are instances of (public, no personal data). */
export function measureRoutes(ctx: HttpContext, fhir: Router): void {
  const measure = municipalMeasure();
  ctx.caps.interaction('Measure', 'read', {
    method: 'get',
    path: '/fhir/Measure/:id',
    summary: 'The Measure of the municipal report',
    tag: TAG,
  });
  fhir.get('/Measure/:id', (req, res) => {
    if (req.params.id !== measure.id)
      throw notFound(`Unknown Measure "${req.params.id}"; the gateway defines municipal-report`);
    sendFhir(res, 200, measure);
  });
}

export function reportRoutes(ctx: HttpContext): Router {
  const router = express.Router();
  router.use(
    express.json({ type: ['application/json', 'application/fhir+json'], limit: ctx.config.bodyLimit }),
  );
  router.use(requireToken(ctx));

  /** Registers a report route once: its entry in the OpenAPI description, the role check, the handler. */
  const route = (
    method: 'get' | 'post',
    name: string,
    permission: Permission,
    summary: string,
    handler: (req: Request, res: Response, principal: Principal) => Promise<void>,
    query?: RouteDoc['query'],
  ) => {
    ctx.caps.route({ method, path: `/reports/$${name}`, summary, tag: TAG, query });
    router[method](`/\\$${name}`, async (req, res) => {
      const principal = principalOf(res);
      demand(principal, permission);
      await handler(req, res, principal);
    });
  };

  route(
    'post',
    'record-trajectory',
    'report:record',
    'Record a coordination trajectory for the municipal report (Parameters: municipality, trajectory, referralSource, lifeDomain); nothing identifying is kept',
    async (req, res, principal) => {
      const input = new OperationInput(req.body);
      const id = input.identifier('municipality', true);
      const municipality = id.system === MUNICIPALITY_SYSTEM ? parseMunicipality(id.value ?? '') : undefined;
      if (!municipality)
        throw badRequest(
          `municipality must be an identifier ${MUNICIPALITY_SYSTEM} with a four-digit CBS code`,
          'Parameters.parameter[municipality]',
        );
      const resource = input.one('trajectory')?.resource;
      if (!resource)
        throw badRequest(
          'Parameter "trajectory" (an EpisodeOfCare) is required',
          'Parameters.parameter[trajectory]',
        );
      const episode = accepted(checkFhir<EpisodeOfCare>(resource, ['EpisodeOfCare']));
      if (episode.status === 'entered-in-error') {
        // A correction: the trajectory should never have been counted.
        const key = trajectoryKey(ctx.config.pseudonymKey, principal.org, episode);
        if (!key)
          throw badRequest(
            'The trajectory needs an identifier (system and value) or an id',
            'EpisodeOfCare.identifier',
          );
        const removed = await ctx.db.transaction(async (tx) => {
          const found = await removeTrajectory(tx, key);
          await audit(tx, principal, {
            subtype: 'report-record',
            outcome: 'success',
            description: `${principal.org} withdrew a trajectory recorded in error from the report of municipality ${municipality}${found ? '' : ' (it was not recorded)'}.`,
            details: { municipality, trajectory: key, result: found ? 'removed' : 'not-found' },
          });
          return found;
        });
        sendFhir(
          res,
          200,
          informational(
            removed
              ? 'The trajectory recorded in error is removed from the municipal report'
              : 'No such trajectory was recorded; nothing to remove',
          ),
        );
        return;
      }
      const { trajectory, issues } = reportTrajectory({
        pseudonymKey: ctx.config.pseudonymKey,
        org: principal.org,
        municipality,
        episode,
        referralSource: input.coding('referralSource'),
        lifeDomains: input.codings('lifeDomain'),
      });
      if (!trajectory) throw unprocessable(issues);
      const outcome = await ctx.db.transaction(async (tx) => {
        const result = await recordTrajectory(tx, trajectory);
        await audit(tx, principal, {
          subtype: 'report-record',
          outcome: 'success',
          description: `${principal.org} recorded a coordination trajectory (${trajectory.trajectoryType}, ${trajectory.ended ? 'closed' : 'open'}) for the report of municipality ${municipality}; nothing that identifies the family was kept.`,
          details: { municipality, trajectory: trajectory.key, result },
        });
        return result;
      });
      sendFhir(
        res,
        outcome === 'created' ? 201 : 200,
        informational(
          outcome === 'created'
            ? 'The trajectory is recorded for the municipal report'
            : 'The earlier record of this trajectory is replaced',
        ),
      );
    },
  );

  route(
    'get',
    'municipal',
    'report:read',
    'Municipal report (MeasureReport, summary): in care, inflow by referral source, outflow by closure reason, open, throughput time, life domains; small cells suppressed',
    async (req, res, principal) => {
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
      if (req.accepts(['application/fhir+json', 'application/json', 'text/html']) === 'text/html') {
        res.status(200).type('text/html; charset=utf-8').send(municipalReportHtml(report));
        return;
      }
      sendFhir(res, 200, report);
    },
    [
      {
        name: 'period',
        required: true,
        description:
          'A year (2023), quarter (2023-Q2), month (2023-05) or a range of them (2005/2007); see REPORT_PERIODS',
      },
      {
        name: 'municipality',
        description:
          'CBS code: 0984, GM0984 or https://ketenpoort.nl/fhir/NamingSystem/cbs-gemeentecode|0984; a municipality gets its own without it',
      },
    ],
  );
  return router;
}
