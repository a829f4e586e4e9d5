// Rate limits per client (express-rate-limit): token requests per client and address, API requests per client (the
// subject of a valid access token; an unauthenticated caller counts per address). Over the limit: 429 with
// Retry-After, as an OAuth error on the token endpoint and an OperationOutcome elsewhere. 0 turns a limit off.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import { decodeJwt } from 'jose';
import { OAuthError } from '../auth/auth.js';
import type { HttpContext } from './context.js';
import { FhirError, outcome } from '../fhir/outcomes.js';

const pass: RequestHandler = (_req, _res, next) => next();

/** Paths outside the API limit: probes, the token endpoint (its own limit), the sandbox's simulated agencies. */
const UNLIMITED = /^\/(health|ready|auth\/token|agencies|sandbox)(\/|$)/;

/** Whether the API rate limit counts requests to this path. */
export const rateLimited = (path: string): boolean => !UNLIMITED.test(path);

const addressOf = (req: Request) => ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown');

function secondsLeft(req: Request, windowSeconds: number): number {
  const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
  return Math.max(1, reset ? Math.ceil((reset.getTime() - Date.now()) / 1000) : windowSeconds);
}

function limiter(
  limit: number,
  windowSeconds: number,
  keyGenerator: Options['keyGenerator'],
  refuse: (req: Request, seconds: number) => Error,
  skip?: (req: Request) => boolean,
): RequestHandler {
  if (limit === 0) return pass;
  return rateLimit({
    windowMs: windowSeconds * 1000,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator,
    ...(skip ? { skip } : {}),
    // The gateway is reached directly or through a proxy the operator configures; it never trusts X-Forwarded-For.
    validate: { xForwardedForHeader: false },
    handler: (req: Request, res: Response, next: NextFunction) => {
      const seconds = secondsLeft(req, windowSeconds);
      res.set('Retry-After', String(seconds));
      next(refuse(req, seconds));
    },
  });
}

/**
 * The token endpoint's limit, after the form is parsed: per client id named in the assertion and the caller's
 * address, so that a stranger naming a client cannot use up that client's own requests.
 */
export function tokenRateLimit(ctx: HttpContext): RequestHandler {
  const { rateLimitToken, rateLimitWindowSeconds } = ctx.config;
  return limiter(
    rateLimitToken,
    rateLimitWindowSeconds,
    (req) => {
      const assertion = (req.body as { client_assertion?: unknown } | undefined)?.client_assertion;
      let client = '-';
      try {
        if (typeof assertion === 'string') client = String(decodeJwt(assertion).iss ?? '-');
      } catch {
        // not a JWT: counted under the address alone; issueToken answers why
      }
      return `token:${client.slice(0, 200)}|${addressOf(req)}`;
    },
    (_req, seconds) =>
      new OAuthError(
        429,
        'temporarily_unavailable',
        `Too many token requests (at most ${rateLimitToken} per ${rateLimitWindowSeconds} s); retry after ${seconds} s. A token lasts ${ctx.config.tokenTtlSeconds} s: reuse it.`,
      ),
  );
}

/** The API's limit (every route but those above): per client (the subject of a valid token), otherwise per address. */
export function apiRateLimit(ctx: HttpContext): RequestHandler {
  const { rateLimitApi, rateLimitWindowSeconds } = ctx.config;
  return limiter(
    rateLimitApi,
    rateLimitWindowSeconds,
    async (req) => {
      const header = req.get('authorization');
      if (header) {
        try {
          return `client:${(await ctx.auth.authenticate(header)).clientId}`;
        } catch {
          // an invalid token counts under the address; requireToken answers 401
        }
      }
      return `address:${addressOf(req)}`;
    },
    (_req, seconds) =>
      new FhirError(
        429,
        outcome(
          'throttled',
          `Te veel verzoeken (hoogstens ${rateLimitApi} per ${rateLimitWindowSeconds} s); probeer het over ${seconds} s opnieuw / Too many requests (at most ${rateLimitApi} per ${rateLimitWindowSeconds} s); retry after ${seconds} s`,
        ),
        { 'Retry-After': String(seconds) },
      ),
    (req) => !rateLimited(req.path),
  );
}
