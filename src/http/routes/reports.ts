// Aggregate reporting: the Measure the municipal reports are instances of, and the router below /reports where
// coordinating agencies record their trajectories (operations/record-trajectory.ts) and the municipality, research and
// the privacy officer read the municipal report (operations/municipal.ts).
import express, { type RequestHandler, type Router } from 'express';
import { municipalMeasure } from '../../reports/municipal.js';
import type { HttpContext } from '../context.js';
import { mountOperations, routesOn } from '../define-operation.js';
import { tokenFirstJson } from '../body-guard.js';
import { requireToken, sendFhir } from '../http.js';
import { notFound } from '../../fhir/outcomes.js';
import { operationsAt } from '../operations/index.js';

/** GET /fhir/Measure/municipal-report: the definition the reports are instances of (public, no personal data). */
export function measureRoutes(ctx: HttpContext, fhir: Router): void {
  const measure = municipalMeasure();
  const route = routesOn(ctx, fhir, '/fhir', 'Reports');
  const summary = 'The Measure of the municipal report';
  route({ method: 'get', path: '/Measure/:id', interaction: ['Measure', 'read'], summary }, (req, res) => {
    if (req.params.id !== measure.id)
      throw notFound(
        `Onbekende Measure "${req.params.id}"; de gateway kent alleen municipal-report / Unknown Measure "${req.params.id}"; the gateway defines municipal-report`,
      );
    sendFhir(res, 200, measure);
  });
}

/**
 * The report operations (operations/), below /reports: JSON bodies, a token for each — or the console's signed-in
 * session (`session`), as below /fhir, so that the officer's console reads the municipal report too.
 */
export function reportRoutes(ctx: HttpContext, session: RequestHandler): Router {
  const router = express.Router();
  router.use(
    tokenFirstJson({ type: ['application/json', 'application/fhir+json'], limit: ctx.config.bodyLimit }),
  );
  router.use(session);
  router.use(requireToken(ctx));
  mountOperations(ctx, router, '/reports', operationsAt('/reports'));
  return router;
}
