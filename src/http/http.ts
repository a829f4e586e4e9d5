// Small HTTP helpers shared by the routes: FHIR responses, the caller, the scope check, paging.
import type { NextFunction, Request, Response } from 'express';
import type { Resource } from '@medplum/fhirtypes';
import type { Principal } from '../auth/access.js';
import type { HttpContext } from './context.js';
import { FhirError, notFound, outcome } from '../fhir/outcomes.js';
import { demand } from '../auth/access.js';
import { levelOf, routeOf, scopeCovers, scopeNeeds } from '../auth/scopes.js';
import { pagingOf } from '../store/search-params.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function sendFhir(
  res: Response,
  status: number,
  resource: Resource,
  headers: Record<string, string> = {},
): void {
  res
    .status(status)
    .set({ 'Content-Type': FHIR_JSON, ...headers })
    .send(JSON.stringify(resource));
}

/**
 * Middleware: the request must carry a valid gateway access token whose scope covers the route (scopes.ts), of a role
 * the route's row names. A path that matches no route is a 404 here already, so a route added without its scope is
 * refused, never open. These checks need no body; a body the parser could not take (tokenFirstJson) is answered only
 * after them, and a transaction's per-entry scopes, which need the body, are checked last.
 */
export function requireToken(ctx: HttpContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const principal = await ctx.auth.authenticate(req.get('authorization'));
    res.locals.principal = principal;
    const path = req.originalUrl.split('?')[0]!;
    const route = routeOf(req.method, path);
    if (!route) throw notFound(`Geen route voor ${req.method} ${path} / No route for ${req.method} ${path}`);
    const bodyError: unknown = res.locals.bodyError;
    const needs = scopeNeeds(route, req.get('if-none-exist'), bodyError ? undefined : req.body);
    if (!scopeCovers(principal.scope, principal.role, needs)) {
      const wanted = needs.map((n) => `${levelOf(principal.role)}/${n.type}.${n.actions.join('')}`).join(' ');
      throw new FhirError(
        403,
        outcome(
          'forbidden',
          `Het toegangstoken geeft geen recht op deze handeling (nodig: ${wanted}) / The access token's scope does not cover this request (needs ${wanted})`,
          {
            details: {
              coding: [
                {
                  system: 'https://ketenpoort.nl/fhir/CodeSystem/decision-reason',
                  code: 'insufficient-scope',
                },
              ],
            },
          },
        ),
        { 'WWW-Authenticate': `Bearer realm="ketenpoort", error="insufficient_scope", scope="${wanted}"` },
      );
    }
    if (route.permission !== 'public') demand(principal, route.permission);
    if (bodyError) throw bodyError;
    next();
  };
}

/** Whether the client asked for a page (Accept: text/html) rather than FHIR JSON. */
export function wantsHtml(req: Request): boolean {
  return req.accepts(['application/fhir+json', 'application/json', 'text/html']) === 'text/html';
}

/** A page in answer (200). */
export function sendHtml(res: Response, html: string): void {
  res.status(200).type('text/html; charset=utf-8').send(html);
}

/** The request id this response carries (X-Request-Id), for audit details. */
export function requestIdOf(res: Response): string {
  return String(res.getHeader('X-Request-Id') ?? '');
}

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw new Error('route mounted without requireToken');
  return p;
}

/**
 * The public base URL for links and the token audience: configured (BASE_URL), or in sandbox and test mode the
 * address the server is bound to (server.ts fills it in). Never the Host header: a client must not choose the links
 * others follow or the audience its own assertion is checked against.
 */
export function baseUrlOf(ctx: HttpContext, _req?: Request): string {
  if (!ctx.config.baseUrl) throw new Error('baseUrl is not known before the server listens');
  return ctx.config.baseUrl;
}

/** Search paging parameters, with sensible defaults and bounds. */
export function paging(query: Request['query']): { count: number; offset: number } {
  return pagingOf(query);
}
