// The express application: request ids and logs, body limits, routes, and the one error middleware.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import path from 'node:path';
import { pinoHttp } from 'pino-http';
import { PROJECT_ROOT } from '../paths.js';
import { StorageUnavailableError } from '../store/database.js';
import { OAuthError, oauthErrorOf } from '../auth/auth.js';
import type { HttpContext } from './context.js';
import { guardedJson, urlGuard } from './body-guard.js';
import { baseUrlOf, FHIR_JSON, requireToken, sendFhir } from './http.js';
import { consoleSignIn } from './console/sign-in.js';
import { accessReport } from './operations/access-report.js';
import { permissions } from './operations/permissions.js';
import { consentHistoryRoutes } from './routes/consent-history.js';
import { consentDecision } from './operations/consent-decision.js';
import { securityLabel } from './operations/security-label.js';
import { exchange } from './operations/exchange.js';
import { validateOperation } from './operations/validate.js';
import { PAYLOAD_TYPES } from '../mappings/payload-types.js';
import { DIRECTORY_TYPES, PERSON_INDEX_TYPES } from '../auth/access.js';
import { requestRecords } from './operations/request-records.js';
import { withdrawConsent } from './operations/withdraw.js';
import { FhirError, internal, notFound, outcome, tooLarge, unavailable } from '../fhir/outcomes.js';
import { apiRateLimit, tokenRateLimit } from './rate-limit.js';
import { refusalLog } from './refusals.js';
import { securityHeaders } from './security-headers.js';
import { smartRoutes } from './smart.js';
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
/** Types an agency sends to the gateway (index entries and payload content) that $validate is offered for. */
const VALIDATED_TYPES = ['Bundle', ...PAYLOAD_TYPES];
/** Types $validate checks as the gateway keeps them (index and directory entries); the rest as payload content. */
const KEPT_TYPES: readonly string[] = [...PERSON_INDEX_TYPES, ...DIRECTORY_TYPES];

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

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', version: ctx.version });
  });
  app.get('/ready', async (_req, res) => {
    try {
      await ctx.db.query('SELECT 1');
      res.json({ status: 'ready', database: ctx.db.engine });
    } catch {
      sendFhir(res, 503, outcome('transient', 'The database is not reachable'));
    }
  });
  ctx.caps.route({ method: 'get', path: '/health', summary: 'Liveness', tag: 'Operations' });
  ctx.caps.route({
    method: 'get',
    path: '/ready',
    summary: 'Readiness (database reachable)',
    tag: 'Operations',
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
  ctx.caps.route({
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: "The gateway's public signing key",
    tag: 'Authentication',
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.json({ keys: [ctx.key.publicJwk] });
  });
  smartRoutes(ctx, app);

  mappingRoutes(ctx, app as unknown as express.Router);

  const fhir = express.Router();
  fhir.use(guardedJson({ type: FHIR_TYPES, limit: ctx.config.bodyLimit }));
  fhir.get('/metadata', (req, res) => {
    sendFhir(res, 200, ctx.caps.capabilityStatement(baseUrlOf(ctx, req), ctx.version));
  });
  terminologyRoutes(ctx, fhir);
  measureRoutes(ctx, fhir);
  operationDefinitionRoutes(ctx, fhir);
  fhir.use(signIn.session);
  fhir.use(requireToken(ctx));
  for (const type of VALIDATED_TYPES) {
    ctx.caps.typeOperation(type, 'validate', {
      method: 'post',
      path: `/fhir/${type}/$validate`,
      summary: `Validate a ${type} as the gateway would`,
      tag: 'Validation',
    });
    const tier = KEPT_TYPES.includes(type) ? 'kept' : 'payload';
    fhir.post(`/${type}/\\$validate`, validateOperation(type, tier));
  }

  /** Registers an operation once: its route, and its entry in the CapabilityStatement and OpenAPI. */
  const operation = (
    on: string | undefined,
    name: string,
    method: 'get' | 'post',
    summary: string,
    tag: string,
    handler: (ctx: HttpContext, req: express.Request, res: express.Response) => Promise<void>,
  ) => {
    const path = on === 'Consent' ? `/Consent/:id/$${name}` : `${on ? `/${on}` : ''}/$${name}`;
    const doc = { method, path: `/fhir${path}`, summary, tag };
    if (on) ctx.caps.typeOperation(on, name, doc);
    else ctx.caps.systemOperation(name, doc);
    fhir[method](path.replace('$', '\\$'), (req, res) => handler(ctx, req, res));
  };
  operation(
    undefined,
    'exchange',
    'post',
    'Push records to another agency (consent-checked)',
    'Exchanges',
    exchange,
  );
  operation(
    undefined,
    'request-records',
    'post',
    'Pull records from another agency (consent-checked, minimised)',
    'Exchanges',
    requestRecords,
  );
  operation(
    undefined,
    'consent-decision',
    'post',
    'Ask for a decision without moving data',
    'Consent decisions',
    consentDecision,
  );
  operation(
    'Bundle',
    'security-label',
    'post',
    'Label a Bundle with the classification table: how sensitive is this?',
    'Consent decisions',
    securityLabel,
  );
  operation(
    'Consent',
    'withdraw',
    'post',
    'Withdraw a consent (immediately inactive)',
    'Person index and directory',
    withdrawConsent,
  );
  operation(
    'Patient',
    'permissions',
    'get',
    'Who may receive what about a person now, and until when (FHIR or Accept: text/html)',
    'Audit and oversight',
    permissions,
  );
  operation(
    'Patient',
    'access-report',
    'get',
    "Who received or read a person's data (FHIR or Accept: text/html)",
    'Audit and oversight',
    accessReport,
  );
  taskRoutes(ctx, fhir);
  auditRoutes(ctx, fhir);
  consentHistoryRoutes(ctx, fhir);
  resourceRoutes(ctx, fhir);
  fhir.use((req) => {
    throw notFound(`No FHIR route for ${req.method} /fhir${req.path}`);
  });
  app.use('/fhir', fhir);
  app.use('/cds-services', cdsHooksRoutes(ctx));
  app.use('/xacml', xacmlRoutes(ctx));
  app.use('/reports', reportRoutes(ctx));

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

  ctx.caps.route({ method: 'get', path: '/fhir/metadata', summary: 'CapabilityStatement', tag: 'Metadata' });
  ctx.caps.route({
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI description',
    tag: 'Metadata',
  });
  app.get('/openapi.json', (req, res) => {
    res.json(ctx.caps.openApi(baseUrlOf(ctx, req), ctx.version));
  });

  app.use((req) => {
    throw notFound(`No route for ${req.method} ${req.path}`);
  });
  app.use(errorHandler(ctx));
  return app;
}

/** Turns every error into an OperationOutcome (or an OAuth error on the token endpoint); never a stack trace. */
function errorHandler(ctx: HttpContext): ErrorRequestHandler {
  const refusals = refusalLog(ctx);
  return async (err: unknown, req: Request, res: Response, _next) => {
    // A refusal (401, 403, 404) is on record before it is answered; recording never changes the answer.
    await refusals.record(req, res, err);
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
      fhirError = unavailable('Storage is unavailable; nothing was done. Try again later.');
    else if (bodyError.type === 'entity.too.large')
      fhirError = tooLarge(`The request body is larger than the limit of ${ctx.config.bodyLimit}`);
    else if (bodyError.type === 'entity.parse.failed')
      fhirError = new FhirError(400, outcome('structure', 'The body is not valid JSON'));
    else if (bodyError.expose && bodyError.status && bodyError.status < 500) {
      fhirError = new FhirError(bodyError.status, outcome('invalid', bodyError.message ?? 'Bad request'));
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
