// SMART Backend Services authentication: client assertions checked against registered JWKS, gateway-signed tokens.
import { randomUUID } from 'node:crypto';
import {
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK,
} from 'jose';
import { activeClient, recordJtiOnce, type StoredClient } from '../store/clients.js';
import { StorageUnavailableError, type Database, type Queryable } from '../store/database.js';
import { firstGatewayKey, insertGatewayKey } from '../store/gateway-keys.js';
import { isRole, type Principal, type Role } from './access.js';
import { assertionProblem, given } from './assertion-errors.js';
import { ClientKeys } from './client-keys.js';
import { unauthorized } from '../fhir/outcomes.js';
import { grantScope } from './scopes.js';
import { VerifiedTokens } from './verified-tokens.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_ALGS = ['ES256', 'RS384'];
const MAX_ASSERTION_LIFETIME_S = 300;
const CLOCK_SKEW_S = 30;

export interface RegisteredClient extends StoredClient {
  role: Role;
}

/** An OAuth error answer (RFC 6749 §5.2) from the token endpoint. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export interface GatewayKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** The gateway's signing key: made by the first process to start, then shared through the database. */
export async function loadGatewayKey(db: Database): Promise<GatewayKey> {
  let row = await firstGatewayKey(db);
  if (!row) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    await insertGatewayKey(db, {
      kid,
      private_jwk: await exportJWK(privateKey),
      public_jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    });
    row = (await firstGatewayKey(db))!;
  }
  return {
    kid: row.kid,
    privateKey: (await importJWK(row.private_jwk, 'ES256')) as CryptoKey,
    publicKey: (await importJWK(row.public_jwk, 'ES256')) as CryptoKey,
    publicJwk: row.public_jwk,
  };
}

export class Authenticator {
  constructor(
    private readonly db: Queryable,
    private readonly key: GatewayKey,
    private readonly tokenTtlSeconds: number,
    private readonly clientKeys = new ClientKeys(),
    /** Tokens verified before, kept until they expire (verified-tokens.ts). */
    private readonly verified = new VerifiedTokens(),
  ) {}

  /**
   * Checks a client assertion (RFC 7523) and issues an access token for the client's organisation and role. The
   * assertion's audience must be this gateway's token URL as configured (BASE_URL), never one the request names.
   */
  async issueToken(form: Record<string, unknown>, tokenUrl: string) {
    if (form.grant_type !== 'client_credentials')
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        `grant_type must be client_credentials (it was ${given(form.grant_type)})`,
      );
    if (form.client_assertion_type !== ASSERTION_TYPE) {
      throw new OAuthError(
        400,
        'invalid_request',
        `client_assertion_type must be ${ASSERTION_TYPE} (it was ${given(form.client_assertion_type)})`,
      );
    }
    const assertion = form.client_assertion;
    if (typeof assertion !== 'string' || assertion === '')
      throw new OAuthError(400, 'invalid_request', 'client_assertion is missing');
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(assertion).alg;
    } catch {
      throw new OAuthError(401, 'invalid_client', 'client_assertion is not a JWT');
    }
    if (!alg || !ASSERTION_ALGS.includes(alg)) {
      throw new OAuthError(
        401,
        'invalid_client',
        `client_assertion must be signed with ${ASSERTION_ALGS.join(' or ')}`,
      );
    }
    const unverifiedIss = decodeIssuer(assertion);
    const client = unverifiedIss ? await this.findClient(unverifiedIss) : undefined;
    if (!client) throw new OAuthError(401, 'invalid_client', 'unknown client');
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, this.clientKeys.keysOf(client), {
        issuer: client.clientId,
        subject: client.clientId,
        audience: tokenUrl,
        algorithms: ASSERTION_ALGS,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: CLOCK_SKEW_S,
      }));
    } catch (err) {
      throw new OAuthError(401, 'invalid_client', assertionProblem(err, client, tokenUrl, assertion));
    }
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256)
      throw new OAuthError(
        401,
        'invalid_client',
        'client_assertion jti must be a string of 1 to 256 characters',
      );
    const now = Math.floor(Date.now() / 1000);
    if (payload.exp! - now > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
      throw new OAuthError(401, 'invalid_client', 'client_assertion exp must be at most 5 minutes ahead');
    }
    if (!(await useJtiOnce(this.db, client.clientId, payload.jti, payload.exp!)))
      throw new OAuthError(401, 'invalid_client', 'client_assertion jti was already used');
    if (form.scope !== undefined && typeof form.scope !== 'string')
      throw new OAuthError(400, 'invalid_request', 'scope must be one space-separated string');
    const requested = typeof form.scope === 'string' && form.scope.trim() ? form.scope.trim() : 'system/*.*';
    return this.tokenFor(client, requested);
  }

  /**
   * Signs an access token for a registered client (used by the token endpoint and the sandbox shortcut). It carries
   * the scope granted: what was requested, narrowed to what the client's role may have (scopes.ts).
   */
  async tokenFor(client: RegisteredClient, requested = 'system/*.*', patient?: string) {
    const scope = grantScope(requested, client.role);
    if (!scope)
      throw new OAuthError(
        400,
        'invalid_scope',
        `none of the requested scopes (${requested}) may be granted to the role ${client.role}`,
      );
    const access_token = await new SignJWT({
      role: client.role,
      org: client.organization,
      scope,
      ...(patient ? { patient } : {}),
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.key.kid, typ: 'at+jwt' })
      .setIssuer('ketenpoort')
      .setAudience('ketenpoort')
      .setSubject(client.clientId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${this.tokenTtlSeconds}s`)
      .sign(this.key.privateKey);
    return { access_token, token_type: 'Bearer', expires_in: this.tokenTtlSeconds, scope };
  }

  /** The key lookup for a client's signatures: its registered JWKS, or the cached key set at its jwks_uri. */
  keysOf(client: RegisteredClient) {
    return this.clientKeys.keysOf(client);
  }

  async findClient(clientId: string): Promise<RegisteredClient | undefined> {
    const client = await activeClient(this.db, clientId);
    if (!client || !isRole(client.role)) return undefined;
    return { ...client, role: client.role };
  }

  /** Verifies a Bearer token from an Authorization header; throws 401 otherwise. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match)
      throw unauthorized(
        'Een Bearer-toegangstoken is nodig (POST /auth/token) / A Bearer access token is required (POST /auth/token)',
      );
    const known = this.verified.get(match[1]!);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(match[1]!, this.key.publicKey, {
        issuer: 'ketenpoort',
        audience: 'ketenpoort',
        algorithms: ['ES256'],
      });
      if (!isRole(payload.role) || typeof payload.org !== 'string' || typeof payload.sub !== 'string') {
        throw new Error('token lacks role or organisation');
      }
      const principal: Principal = {
        clientId: payload.sub,
        role: payload.role,
        org: payload.org,
        scope: String(payload.scope ?? ''),
        patient: typeof payload.patient === 'string' ? payload.patient : undefined,
      };
      this.verified.set(match[1]!, principal, payload.exp);
      return principal;
    } catch {
      throw unauthorized(
        'Het toegangstoken is ongeldig of verlopen / The access token is invalid or has expired',
      );
    }
  }
}

/**
 * Replay protection: a jti is accepted once per client until its JWT (expiring at `exp`, seconds) has expired, with
 * the clock skew allowed. False when it was used before.
 */
export async function useJtiOnce(
  db: Queryable,
  clientId: string,
  jti: string,
  exp: number,
): Promise<boolean> {
  return recordJtiOnce(db, clientId, jti, new Date((exp + CLOCK_SKEW_S) * 1000));
}

function decodeIssuer(jwt: string): string | undefined {
  const part = jwt.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof claims.iss === 'string' ? claims.iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The OAuth form (RFC 6749 §5.2) of anything that goes wrong at the token endpoint before or around issueToken: the
 * body parser's refusals (too large, unreadable, unsupported charset), storage unavailable, the unexpected.
 */
export function oauthErrorOf(err: unknown, bodyLimit: string): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof StorageUnavailableError)
    return new OAuthError(
      503,
      'temporarily_unavailable',
      'Storage is unavailable; no token was issued. Try again later.',
    );
  const body = err as { type?: string; status?: number; expose?: boolean; message?: string };
  if (body.type === 'entity.too.large')
    return new OAuthError(
      413,
      'invalid_request',
      `The request body is larger than the limit of ${bodyLimit}`,
    );
  if (body.expose && body.status && body.status >= 400 && body.status < 500)
    return new OAuthError(body.status, 'invalid_request', body.message ?? 'Bad request');
  return new OAuthError(500, 'server_error', 'Internal error; no token was issued. See the server log.');
}
