// The express application: request ids and logs, body limits, routes, and the one error middleware.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import path from 'node:path';
import { pinoHttp } from 'pino-http';
import { safeError } from './safe-error.js';
import { PROJECT_ROOT } from '../paths.js';
import { ping, StorageUnavailableError } from '../store/database.js';
import { OAuthError, oauthErrorOf } from '../auth/auth.js';
import type { HttpContext } from './context.js';
import { tokenFirstJson, urlGuard } from './body-guard.js';
import { mountOperations, routesOn } from './define-operation.js';
import { baseUrlOf, FHIR_JSON, requireToken, sendFhir } from './http.js';
import { consoleSignIn } from './console/sign-in.js';
import { openApiDocument } from './openapi.js';
import { operationsAt } from './operations/index.js';
import { consentHistoryRoutes } from './routes/consent-history.js';
import { FhirError, internal, notFound, outcome, tooLarge, unavailable } from '../fhir/outcomes.js';
import { apiRateLimit, tokenRateLimit } from './rate-limit.js';
import { securityHeaders } from './security-headers.js';
import { SMART_CONFIGURATION_PATHS, smartConfiguration } from './smart.js';
import { auditRoutes } from './routes/audit.js';
import { cdsHooksRoutes, xacmlRoutes } from './routes/cds-hooks.js';
import { resourceRoutes } from './routes/resources.js';
import { measureRoutes, reportRoutes } from './routes/reports.js';
import { taskRoutes } from './routes/tasks.js';
import { terminologyRoutes } from './routes/terminology.js';
import { mappingRoutes } from './routes/mappings.js';
import { operationDefinitionRoutes } from './routes/operation-definitions.js';

const FHIR_TYPES = ['application/fhir+json', 'application/json', 'application/*+json'];
/** A token request is a few short form fields; a client assertion is well under 8 KB. */
const TOKEN_BODY_LIMIT = '64kb';

export interface AppExtensions {
  /** Extra routes (sandbox, simulated agencies), mounted before the 404 handler. */
  mount?: (app: Express) => void;
}

export function createApp(ctx: HttpContext, ext: AppExtensions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const id = incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', id);
    (req as Request & { id: string }).id = id;
    next();
  });
  app.use(
    pinoHttp({
      logger: ctx.logger,
      genReqId: (req) => (req as unknown as { id: string }).id,
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        err: safeError,
        req: (req: { method: string; url: string; id: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
      },
    }),
  );
  app.use(urlGuard);
  app.use(securityHeaders(() => baseUrlOf(ctx).startsWith('https:')));
  const signIn = consoleSignIn(ctx);
  const root = app as unknown as express.Router;

  const probe = routesOn(ctx, root, '', 'Operations');
  probe({ method: 'get', path: '/health', summary: 'Liveness' }, (_req, res) => {
    res.json({ status: 'ok', version: ctx.version });
  });
  probe({ method: 'get', path: '/ready', summary: 'Readiness (database reachable)' }, async (_req, res) => {
    try {
      await ping(ctx.db);
      res.json({ status: 'ready', database: ctx.db.engine });
    } catch {
      sendFhir(
        res,
        503,
        outcome('transient', 'De database is niet bereikbaar / The database is not reachable'),
      );
    }
  });
  app.use(apiRateLimit(ctx));

  ctx.caps.route({
    method: 'post',
    path: '/auth/token',
    summary: 'SMART Backend Services token (client_credentials + JWT assertion)',
    tag: 'Authentication',
  });
  app.post(
    '/auth/token',
    express.urlencoded({ extended: false, limit: TOKEN_BODY_LIMIT, parameterLimit: 20 }),
    tokenRateLimit(ctx),
    async (req: Request, res: Response) => {
      if (!req.is('application/x-www-form-urlencoded'))
        throw new OAuthError(
          400,
          'invalid_request',
          `The body must be application/x-www-form-urlencoded (it was ${req.get('content-type') ?? 'without a content type'})`,
        );
      const token = await ctx.auth.issueToken(
        (req.body ?? {}) as Record<string, unknown>,
        `${baseUrlOf(ctx)}/auth/token`,
      );
      res.set('Cache-Control', 'no-store').json(token);
    },
    ((err, req, _res, next) => {
      const answer = oauthErrorOf(err, TOKEN_BODY_LIMIT);
      if (answer.status >= 500 && answer.error === 'server_error') req.log?.error({ err }, 'unhandled error');
      next(answer);
    }) as ErrorRequestHandler,
  );
  const authentication = routesOn(ctx, root, '', 'Authentication');
  const jwks = {
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: "The gateway's public signing key",
  } as const;
  authentication(jwks, (_req, res) => {
    res.json({ keys: [ctx.key.publicJwk] });
  });
  for (const path of SMART_CONFIGURATION_PATHS) {
    const summary = 'SMART Backend Services discovery (token endpoint, scopes, signing algorithms)';
    authentication({ method: 'get', path, summary }, (_req, res) => {
      res.set('Cache-Control', 'public, max-age=300').json(smartConfiguration(baseUrlOf(ctx)));
    });
  }

  mappingRoutes(ctx, root);
  mountOperations(ctx, root, '', operationsAt('/mappings'));

  const fhir = express.Router();
  fhir.use(tokenFirstJson({ type: FHIR_TYPES, limit: ctx.config.bodyLimit }));
  routesOn(
    ctx,
    fhir,
    '/fhir',
    'Metadata',
  )({ method: 'get', path: '/metadata', summary: 'CapabilityStatement' }, (req, res) => {
    sendFhir(res, 200, ctx.caps.capabilityStatement(baseUrlOf(ctx, req), ctx.version));
  });
  // The terminology operations before the reads of the same types (`/ValueSet/:id` would match `$expand`).
  mountOperations(ctx, fhir, '/fhir', operationsAt('/fhir', 'public'));
  terminologyRoutes(ctx, fhir);
  measureRoutes(ctx, fhir);
  operationDefinitionRoutes(ctx, fhir);
  fhir.use(signIn.session);
  fhir.use(requireToken(ctx));
  mountOperations(ctx, fhir, '/fhir', operationsAt('/fhir', 'token'));
  taskRoutes(ctx, fhir);
  auditRoutes(ctx, fhir);
  consentHistoryRoutes(ctx, fhir);
  resourceRoutes(ctx, fhir);
  fhir.use((req) => {
    throw notFound(
      `Geen FHIR-route voor ${req.method} /fhir${req.path} / No FHIR route for ${req.method} /fhir${req.path}`,
    );
  });
  app.use('/fhir', fhir);
  app.use('/cds-services', cdsHooksRoutes(ctx));
  app.use('/xacml', xacmlRoutes(ctx));
  app.use('/reports', reportRoutes(ctx, signIn.session));

  ctx.caps.route({
    method: 'get',
    path: '/console/',
    summary: 'Privacy officer console (web page)',
    tag: 'Audit and oversight',
  });
  for (const [method, route, summary] of [
    ['get', '/console/login', 'Sign in to the console with OpenID Connect (redirects to the provider)'],
    ['get', '/console/callback', "The provider's answer to a sign-in (authorization code + PKCE)"],
    ['get', '/console/session', 'Who is signed in to the console, and the CSRF token of the session'],
    ['post', '/console/logout', 'Sign out of the console (needs the CSRF token)'],
  ] as const)
    ctx.caps.route({ method, path: route, summary, tag: 'Audit and oversight' });
  app.use('/console', signIn.routes);
  app.use(
    '/console',
    express.static(path.join(PROJECT_ROOT, 'console'), { index: 'index.html', maxAge: '1h' }),
  );

  ext.mount?.(app);

  routesOn(
    ctx,
    root,
    '',
    'Metadata',
  )({ method: 'get', path: '/openapi.json', summary: 'This OpenAPI description' }, (req, res) => {
    res.json(openApiDocument(ctx.caps, baseUrlOf(ctx, req), ctx.version));
  });

  app.use((req) => {
    throw notFound(`Geen route voor ${req.method} ${req.path} / No route for ${req.method} ${req.path}`);
  });
  app.use(errorHandler(ctx));
  return app;
}

/** Turns every error into an OperationOutcome (or an OAuth error on the token endpoint); never a stack trace. */
function errorHandler(ctx: HttpContext): ErrorRequestHandler {
  return async (err: unknown, req: Request, res: Response, _next) => {
    // A refusal (401, 403, 404) is on record before it is answered; recording never changes the answer.
    await ctx.refusals.record(req, res, err);
    if (err instanceof OAuthError) {
      if (err.status === 401) res.set('WWW-Authenticate', 'Bearer realm="ketenpoort"');
      res
        .status(err.status)
        .set('Cache-Control', 'no-store')
        .json({ error: err.error, error_description: err.description });
      return;
    }
    let fhirError: FhirError;
    const bodyError = err as { type?: string; status?: number; expose?: boolean; message?: string };
    if (err instanceof FhirError) fhirError = err;
    else if (err instanceof StorageUnavailableError)
      fhirError = unavailable(
        'De opslag is niet beschikbaar; er is niets gedaan. Probeer het later opnieuw. / Storage is unavailable; nothing was done. Try again later.',
      );
    else if (bodyError.type === 'entity.too.large')
      fhirError = tooLarge(
        `De inhoud van het verzoek is groter dan de limiet van ${ctx.config.bodyLimit} / The request body is larger than the limit of ${ctx.config.bodyLimit}`,
      );
    else if (bodyError.type === 'entity.parse.failed')
      fhirError = new FhirError(
        400,
        outcome('structure', 'De inhoud is geen geldige JSON / The body is not valid JSON'),
      );
    else if (bodyError.expose && bodyError.status && bodyError.status < 500) {
      fhirError = new FhirError(
        bodyError.status,
        outcome('invalid', bodyError.message ?? 'Ongeldig verzoek / Bad request'),
      );
    } else {
      req.log?.error({ err }, 'unhandled error');
      fhirError = internal();
    }
    if (res.headersSent) return;
    res
      .status(fhirError.status)
      .set({ 'Content-Type': FHIR_JSON, ...fhirError.headers })
      .send(JSON.stringify(fhirError.outcome));
  };
}
