// People sign in to the console with OpenID Connect (authorization code + PKCE); the session stays on the server.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import * as oidc from 'openid-client';
import { isValidBsn } from '../../mappings/bsn.js';
import type { SignInConfig } from '../../sign-in-config.js';
import type { HttpContext } from '../context.js';
import { baseUrlOf } from '../http.js';
import { badRequest, FhirError, forbidden, outcome, unavailable } from '../../fhir/outcomes.js';
import {
  cookieNames,
  cookieOf,
  csrfMatches,
  SessionStore,
  setCookie,
  type ConsoleSession,
} from './sessions.js';

/** The sandbox's own provider (src/sandbox/oidc-provider.ts) and its registration of the console. */
export const SANDBOX_ISSUER_PATH = '/sandbox/oidc';
export const SANDBOX_CONSOLE_CLIENT = { id: 'ketenpoort-console', secret: 'sandbox-console-secret' };
const LOGIN_SECONDS = 600;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The provider this gateway trusts: configured, or in the sandbox its own local one. */
function providerOf(ctx: HttpContext): SignInConfig | undefined {
  const conf = ctx.config.signIn;
  if (conf.issuer) return conf;
  if (!ctx.config.sandbox) return undefined;
  return {
    ...conf,
    issuer: `${baseUrlOf(ctx)}${SANDBOX_ISSUER_PATH}`,
    clientId: SANDBOX_CONSOLE_CLIENT.id,
    clientSecret: SANDBOX_CONSOLE_CLIENT.secret,
  };
}

const roles = (value: unknown): string[] =>
  typeof value === 'string' ? value.split(/[\s,]+/) : Array.isArray(value) ? value.map(String) : [];

/** Who signed in, from the ID token's claims: an officer (by the role claim and the allow-list) or a person (BSN). */
export function sessionFacts(
  conf: SignInConfig,
  claims: Record<string, unknown>,
): Omit<ConsoleSession, 'csrfToken'> | undefined {
  const subject = String(claims.sub ?? '');
  const name = typeof claims.name === 'string' ? claims.name : subject;
  if (roles(claims[conf.roleClaim]).includes(conf.officerRole)) {
    const email = typeof claims.email === 'string' ? claims.email : '';
    const allowed =
      conf.allowedOfficers.length === 0 ||
      conf.allowedOfficers.includes(subject) ||
      (email !== '' && conf.allowedOfficers.includes(email));
    return allowed ? { kind: 'officer', subject, displayName: name, bsn: null, login: null } : undefined;
  }
  const bsn = claims[conf.bsnClaim];
  if (typeof bsn === 'string' && isValidBsn(bsn))
    return { kind: 'person', subject, displayName: name, bsn, login: null };
  return undefined;
}

/** A small Dutch-first page for the ends of the sign-in flow (no script: the CSP allows none inline). */
function page(res: Response, status: number, title: string, body: string, refreshTo?: string): void {
  const refresh = refreshTo ? `<meta http-equiv="refresh" content="0;url=${refreshTo}">` : '';
  res
    .status(status)
    .type('html')
    .set('Cache-Control', 'no-store')
    .send(
      `<!doctype html><html lang="nl"><head><meta charset="utf-8">${refresh}<title>${title}</title>` +
        `<link rel="stylesheet" href="/console/style.css"></head><body><main><h1>${title}</h1>${body}` +
        `<p><a href="/console/">Naar de console / To the console</a></p></main></body></html>`,
    );
}

export function consoleSignIn(ctx: HttpContext): { routes: Router; session: express.RequestHandler } {
  const store = new SessionStore(ctx.db, ctx.config.signIn);
  const secure = () => baseUrlOf(ctx).startsWith('https:');
  const names = () => cookieNames(secure());
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (conf: SignInConfig) => {
    discovered ??= oidc
      .discovery(
        new URL(conf.issuer),
        conf.clientId,
        conf.clientSecret,
        undefined,
        // Plain http only for a provider on this machine (the sandbox, tests); documented in the README.
        conf.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw err;
      });
    return discovered;
  };
  const redirectUri = () => `${baseUrlOf(ctx)}/console/callback`;

  const routes = express.Router();
  routes.get('/session', async (req, res) => {
    const session = await store.find(cookieOf(req, names().session));
    const conf = providerOf(ctx);
    res.set('Cache-Control', 'no-store').json({
      signedIn: !!session && session.kind !== 'login',
      kind: session?.kind === 'login' ? undefined : session?.kind,
      name: session?.kind === 'login' ? undefined : session?.displayName,
      bsn: session?.kind === 'person' ? session.bsn : undefined,
      csrfToken: session && session.kind !== 'login' ? session.csrfToken : undefined,
      signInAvailable: !!conf,
      sandbox: ctx.config.sandbox,
    });
  });

  routes.get('/login', async (_req, res) => {
    const conf = providerOf(ctx);
    if (!conf)
      throw new FhirError(
        404,
        outcome('not-found', 'Aanmelden is niet ingericht / Sign-in is not configured'),
      );
    const config = await configuration(conf).catch(() => {
      throw unavailable(
        'De inlogdienst is niet bereikbaar; probeer het later opnieuw / The sign-in provider cannot be reached; try again later',
      );
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const login = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier };
    const { id } = await store.create(
      'login',
      { subject: null, displayName: null, bsn: null, login },
      LOGIN_SECONDS,
    );
    setCookie(res, names().login, id, { secure: secure(), sameSite: 'Lax', maxAgeSeconds: LOGIN_SECONDS });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri(),
      scope: 'openid profile email ketenpoort',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
      ui_locales: 'nl en',
    });
    res.set('Cache-Control', 'no-store').redirect(303, url.href);
  });

  routes.get('/callback', async (req, res) => {
    const conf = providerOf(ctx);
    const loginId = cookieOf(req, names().login);
    const pending = await store.find(loginId, 'login');
    if (!conf || !pending?.login)
      throw badRequest(
        'Er loopt geen aanmelding (verlopen of al gebruikt); meld u opnieuw aan / No sign-in is under way; sign in again',
      );
    await store.end(loginId);
    setCookie(res, names().login, '', { secure: secure(), sameSite: 'Lax', maxAgeSeconds: 0 });
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(
        await configuration(conf),
        new URL(`${baseUrlOf(ctx)}${req.originalUrl}`),
        {
          pkceCodeVerifier: pending.login.verifier,
          expectedState: pending.login.state,
          expectedNonce: pending.login.nonce,
        },
      );
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
    } catch (err) {
      req.log?.warn({ err }, 'sign-in refused');
      page(
        res,
        400,
        'Aanmelden mislukt',
        '<p>De inlogdienst gaf geen geldige aanmelding terug. Meld u opnieuw aan. / The provider did not return a valid sign-in; please sign in again.</p><p><a href="/console/login">Opnieuw aanmelden / Sign in again</a></p>',
      );
      return;
    }
    const facts = sessionFacts(conf, claims);
    if (!facts) {
      page(
        res,
        403,
        'Geen toegang',
        '<p>U bent aangemeld, maar heeft geen rol in Ketenpoort (geen functionaris gegevensbescherming en geen BSN). / You are signed in but have no role here.</p>',
      );
      return;
    }
    const { id } = await store.create(facts.kind, facts);
    setCookie(res, names().session, id, {
      secure: secure(),
      sameSite: 'Strict',
      maxAgeSeconds: ctx.config.signIn.absoluteHours * 3600,
    });
    // A page rather than a redirect: the Strict cookie goes along only with a navigation that starts on this site.
    page(res, 200, 'Aangemeld', '<p>U bent aangemeld. / You are signed in.</p>', '/console/');
  });

  routes.post('/logout', async (req, res) => {
    const id = cookieOf(req, names().session);
    const session = await store.find(id);
    if (session && !csrfMatches(session, req.get('x-csrf-token')))
      throw forbidden(
        'Afmelden vraagt het CSRF-token van de sessie / Signing out needs the session CSRF token',
      );
    await store.end(id);
    setCookie(res, names().session, '', { secure: secure(), sameSite: 'Strict', maxAgeSeconds: 0 });
    res.status(204).end();
  });

  /**
   * Before the token check of the API: a request without an Authorization header but with a session cookie acts as
   * the signed-in person, through a short-lived gateway token of the person's role. A state-changing request must
   * carry the session's CSRF token in X-CSRF-Token.
   */
  const session = async (req: Request, _res: Response, next: NextFunction) => {
    if (req.get('authorization')) return next();
    const id = cookieOf(req, names().session);
    if (!id) return next();
    const found = await store.find(id);
    if (!found || found.kind === 'login') return next();
    if (STATE_CHANGING.has(req.method) && !csrfMatches(found, req.get('x-csrf-token')))
      throw forbidden(
        'Deze handeling vraagt het CSRF-token van de sessie / This action needs the session CSRF token',
      );
    const token =
      found.kind === 'officer'
        ? await ctx.auth.tokenFor(
            {
              clientId: `console:${found.subject}`,
              role: 'privacy-officer',
              organization: ctx.config.signIn.officerOrganization,
            },
            'system/*.*',
          )
        : await ctx.auth.tokenFor(
            { clientId: `person:${found.subject}`, role: 'person', organization: `Person/${found.bsn}` },
            'patient/AuditEvent.read patient/Consent.read',
            found.bsn ?? undefined,
          );
    req.headers.authorization = `Bearer ${token.access_token}`;
    next();
  };
  return { routes, session };
}
