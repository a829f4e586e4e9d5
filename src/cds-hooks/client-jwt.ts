// CDS Hooks authentication (CDS Hooks 2.0, "Trusting CDS Clients"): besides the gateway's own access token, a hook
// call may carry a JWT signed by the CDS client itself — iss the registered client, aud the service URL, a one-time
// jti and a short exp — verified against the client's registered JWKS. There is no unauthenticated mode.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Principal } from '../auth/access.js';
import { useJtiOnce, type Authenticator } from '../auth/auth.js';
import type { GatewayContext } from '../context.js';
import { unauthorized } from '../fhir/outcomes.js';
import { grantScope } from '../auth/scopes.js';

const ALGS = ['ES256', 'ES384', 'RS256', 'RS384'];
const MAX_LIFETIME_S = 300;
const CLOCK_SKEW_S = 30;

type Authenticate = Authenticator['authenticate'];

/** Whether a bearer token is the gateway's own access token (typ at+jwt, issuer ketenpoort) rather than a client's. */
function isGatewayToken(token: string): boolean {
  try {
    return decodeProtectedHeader(token).typ === 'at+jwt' || decodeJwt(token).iss === 'ketenpoort';
  } catch {
    return true;
  }
}

/**
 * Verifies a CDS client's JWT for the service at `audience`: signature by a key of the registered client named in
 * `iss`, the audience, exp at most five minutes ahead, and a jti not seen before (kept until the JWT expires).
 */
export async function verifyClientJwt(
  ctx: GatewayContext,
  token: string,
  audience: string,
): Promise<Principal> {
  let iss: string | undefined;
  try {
    const claims = decodeJwt(token);
    iss = typeof claims.iss === 'string' ? claims.iss : undefined;
  } catch {
    throw unauthorized('Het token is geen JWT / The bearer token is not a JWT');
  }
  const client = iss ? await ctx.auth.findClient(iss) : undefined;
  if (!client?.jwks)
    throw unauthorized(`Onbekende CDS-client / Unknown CDS client (iss ${iss ?? 'missing'})`);
  let payload;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(client.jwks!), {
      issuer: client.clientId,
      audience,
      algorithms: ALGS,
      requiredClaims: ['exp', 'iat', 'jti'],
      clockTolerance: CLOCK_SKEW_S,
    }));
  } catch (err) {
    throw unauthorized(`CDS-client-JWT geweigerd / CDS client JWT rejected: ${(err as Error).message}`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (payload.exp! - now > MAX_LIFETIME_S + CLOCK_SKEW_S)
    throw unauthorized('exp mag hoogstens 5 minuten vooruit liggen / exp must be at most 5 minutes ahead');
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256)
    throw unauthorized(
      'jti moet een tekst van 1 tot 256 tekens zijn / jti must be a string of 1 to 256 characters',
    );
  if (payload.sub !== undefined && payload.sub !== client.clientId)
    throw unauthorized('sub moet de client zelf zijn / sub must be the client itself');
  if (!(await useJtiOnce(ctx.db, client.clientId, payload.jti, payload.exp!)))
    throw unauthorized('Deze jti is al gebruikt / This jti was already used');
  // A client JWT carries no scope: it gets what its role may have, as a token asked for system/*.* would.
  return {
    clientId: client.clientId,
    role: client.role,
    org: client.organization,
    scope: grantScope('system/*.*', client.role),
  };
}

/**
 * A context whose authenticator also takes a CDS client JWT for the service at `audience(path)`, so requireToken
 * keeps doing the scope check (scopes.ts) and the refusal audit for both kinds of token.
 */
export function withClientJwt<C extends GatewayContext>(ctx: C, audience: () => string): C {
  const gateway: Authenticate = (header) => ctx.auth.authenticate(header);
  const auth = Object.create(ctx.auth) as Authenticator;
  auth.authenticate = async (header) => {
    const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
    if (!token || isGatewayToken(token)) return gateway(header);
    return verifyClientJwt(ctx, token, audience());
  };
  return { ...ctx, auth };
}
