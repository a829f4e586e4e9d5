// CDS Hooks services: LEAP's patient-consent-consult (request, card and redaction as the LEAP consent decision
// service defines them) and bundle-security-label, and LEAP's XACML JSON endpoint. The work is in src/cds-hooks/.
import express, { type Request, type Response, type Router } from 'express';
import { consultCard, xacmlResponse } from '../../cds-hooks/card.js';
import { withClientJwt } from '../../cds-hooks/client-jwt.js';
import { consult } from '../../cds-hooks/consult.js';
import { labelHookResponse } from '../../cds-hooks/labelling.js';
import { CONSULT_HOOK, LABEL_HOOK, readConsult, readLabelRequest } from '../../cds-hooks/schema.js';
import { readXacml } from '../../cds-hooks/xacml.js';
import { languageOf } from '../../consent/explain.js';
import { tokenFirstJson } from '../body-guard.js';
import type { HttpContext } from '../context.js';
import { baseUrlOf, principalOf, requestIdOf, requireToken } from '../http.js';
import { routesOn } from '../define-operation.js';

const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/*+json'];

const SERVICES = [
  {
    hook: CONSULT_HOOK,
    id: CONSULT_HOOK,
    title: 'Ketenpoort toestemmingsbesluit / consent decision',
    description:
      'Beslist of een ontvanger gegevens van een persoon mag krijgen voor een doel, volgens de Nederlandse leeftijdsregels; antwoordt als de LEAP consent decision service. / Decides whether a recipient may receive a person\u2019s data for a purpose under Dutch consent age rules; answers as the LEAP consent decision service.',
    prefetch: {},
  },
  {
    hook: LABEL_HOOK,
    id: LABEL_HOOK,
    title: 'Ketenpoort beveiligingslabels / security labelling',
    description:
      'Labelt de entries van een Bundle met de classificatietabel van de gateway. / Labels the entries of a Bundle with the gateway\u2019s classification table.',
    prefetch: {},
  },
];

export function cdsHooksRoutes(ctx: HttpContext): Router {
  const router = express.Router();
  router.use(tokenFirstJson({ type: JSON_TYPES, limit: ctx.config.bodyLimit }));
  const route = routesOn(ctx, router, '/cds-services', 'Consent decisions');
  /**
   * A CDS service, POSTed to at its own URL by those who may exchange: with a gateway token or a CDS client JWT
   * whose audience is that URL.
   */
  const service = (id: string, summary: string, handler: (req: Request, res: Response) => unknown) =>
    route(
      { method: 'post', path: `/${id}`, summary, permission: 'exchange' },
      requireToken(withClientJwt(ctx, () => `${baseUrlOf(ctx)}/cds-services/${id}`)),
      handler,
    );

  route({ method: 'get', path: '/', summary: 'CDS Hooks discovery' }, (_req, res) => {
    res.json({ services: SERVICES });
  });

  const consultSummary = 'LEAP-compatible consent decision (gateway token or CDS client JWT)';
  service(CONSULT_HOOK, consultSummary, async (req, res) => {
    const principal = principalOf(res);
    const question = readConsult(req.body);
    const answer = await consult(
      ctx,
      principal,
      question,
      languageOf(req.get('accept-language')),
      requestIdOf(res),
    );
    res.json({ cards: [consultCard(answer, { label: 'Ketenpoort', url: baseUrlOf(ctx) })] });
  });

  const labelSummary = 'LEAP-compatible security labelling of a Bundle (gateway token or CDS client JWT)';
  service(LABEL_HOOK, labelSummary, (req, res) => {
    res.json(labelHookResponse(readLabelRequest(req.body)));
  });
  return router;
}

/** LEAP's XACML JSON endpoint (POST /xacml): the consult in the XACML JSON profile. */
export function xacmlRoutes(ctx: HttpContext): Router {
  const router = express.Router();
  router.use(tokenFirstJson({ type: JSON_TYPES, limit: ctx.config.bodyLimit }));
  const summary = 'LEAP-compatible consent decision in the XACML JSON profile';
  routesOn(
    ctx,
    router,
    '/xacml',
    'Consent decisions',
  )(
    { method: 'post', path: '/', summary, permission: 'exchange' },
    requireToken(ctx),
    async (req: Request, res: Response) => {
      const principal = principalOf(res);
      const answer = await consult(
        ctx,
        principal,
        readXacml(req.body),
        languageOf(req.get('accept-language')),
        requestIdOf(res),
      );
      res.json(xacmlResponse(answer));
    },
  );
  return router;
}
