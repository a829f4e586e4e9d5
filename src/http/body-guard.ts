// The edge's guard against hostile input, before anything recursive or the database sees it: JSON bodies nested too
// deep or holding U+0000 or a lone surrogate escape, NUL bytes in URLs, and paging values that are not small whole numbers.
import express, { type Request, type RequestHandler } from 'express';
import { badRequest } from '../fhir/outcomes.js';
import { routeOf } from '../auth/scopes.js';

/** Deepest nesting of objects and arrays a JSON body may have; FHIR resources the gateway takes need about 15. */
export const MAX_JSON_DEPTH = 100;

/** Largest _count or _offset: nine digits keep every page well inside the database's integers. */
const PAGING = /^\d{1,9}$/;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = new Set([0x5b, 0x7b]);
const CLOSE = new Set([0x5d, 0x7d]);

/**
 * Reads raw JSON once, byte by byte (no recursion, no parse): the problem with it, if any. Strings are skipped so that
 * brackets in text do not count; the escape `\u0000` inside one is a problem (FHIR forbids it, PostgreSQL cannot store
 * it).
 */
export function jsonProblem(raw: Buffer): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (inString) {
      if (b === BACKSLASH) {
        if (raw[i + 1] === 0x75) {
          const unit = parseInt(raw.toString('latin1', i + 2, i + 6), 16);
          if (unit === 0)
            return 'De body bevat het teken U+0000 / The body holds the character U+0000, which is not allowed';
          if (unit >= 0xd800 && unit <= 0xdfff) {
            // A surrogate escape must be a high one followed at once by a low one: alone it is no character.
            const next =
              raw[i + 6] === BACKSLASH && raw[i + 7] === 0x75
                ? parseInt(raw.toString('latin1', i + 8, i + 12), 16)
                : NaN;
            if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff))
              return 'De body bevat een losse UTF-16-surrogaat (\\ud800–\\udfff) / The body holds a lone UTF-16 surrogate escape, which is no character';
            i += 6;
          }
        }
        i++;
      } else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (OPEN.has(b)) {
      if (++depth > MAX_JSON_DEPTH)
        return `De body is dieper genest dan ${MAX_JSON_DEPTH} niveaus / The body is nested deeper than ${MAX_JSON_DEPTH} levels`;
    } else if (CLOSE.has(b)) depth--;
  }
  return undefined;
}

/** express.json with the guard: the raw body is checked before it is parsed; a problem is a 400 OperationOutcome. */
export function guardedJson(options: { type: string | string[]; limit: string | number }): RequestHandler {
  return express.json({
    ...options,
    verify: (_req, _res, raw) => {
      const problem = jsonProblem(raw);
      if (problem) throw badRequest(problem);
    },
  });
}

/** Whether a request goes to a route behind the token check (or to none: requireToken answers that with a 404). */
const behindToken = (req: Request): boolean =>
  routeOf(req.method, req.originalUrl.split('?')[0]!)?.scope !== 'none';

/**
 * guardedJson for a router whose routes are mostly behind the token check. A body that cannot be taken (not JSON, too
 * deep, too large) is kept, not answered, on such a route: requireToken (http.ts) answers first who is asking (401)
 * and whether the caller's role and scope reach the route at all (403), so that a caller without the right learns
 * nothing from how its body was read and its refusal is on record; only then is the body's problem the answer (400,
 * 413). A public route answers it at once.
 */
export function tokenFirstJson(options: { type: string | string[]; limit: string | number }): RequestHandler {
  const parse = guardedJson(options);
  return (req, res, next) =>
    parse(req, res, (err?: unknown) => {
      if (err === undefined || err === null || !behindToken(req)) return next(err);
      res.locals.bodyError = err;
      next();
    });
}

/**
 * Refuses a path that does not decode, NUL in the path or query (an id or search value PostgreSQL cannot compare) and
 * malformed paging. The token endpoint reads neither path nor query, and answers in OAuth's own error form.
 */
export const urlGuard: RequestHandler = (req, _res, next) => {
  if (req.path === '/auth/token') return next();
  try {
    decodeURIComponent(req.path);
  } catch {
    throw badRequest('Het pad is geen geldige URL-codering / The path is not valid percent-encoding');
  }
  if (/%00/.test(req.originalUrl) || req.originalUrl.includes('\0'))
    throw badRequest(
      'De URL bevat het teken U+0000 / The URL holds the character U+0000, which is not allowed',
    );
  if (req.method !== 'GET') return next();
  for (const name of ['_count', '_offset']) {
    const value = (req.query as Record<string, unknown>)[name];
    if (value !== undefined && (typeof value !== 'string' || !PAGING.test(value)))
      throw badRequest(
        `${name} is een geheel getal van 0 tot 999999999 / ${name} takes a whole number from 0 to 999999999`,
        name,
      );
  }
  next();
};
