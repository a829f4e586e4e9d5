// Console sessions kept server-side: a random id in an HttpOnly cookie, its hash and the person's facts in a table.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Queryable } from '../../store/database.js';
import {
  consoleSessionByHash,
  insertConsoleSession,
  removeConsoleSession,
  removeEndedConsoleSessions,
  touchConsoleSession,
  type ConsoleSessionKind,
  type StoredConsoleSession,
} from '../../store/console-sessions.js';
import type { SignInConfig } from '../../sign-in-config.js';

export type SessionKind = ConsoleSessionKind;

export type ConsoleSession = StoredConsoleSession;

const hash = (id: string) => createHash('sha256').update(id).digest('hex');
const randomId = () => randomBytes(32).toString('base64url');

/** Cookie names: `__Host-` (Secure, Path=/, no Domain) wherever the gateway speaks https; plain names on http. */
export function cookieNames(secure: boolean): { session: string; login: string } {
  return secure
    ? { session: '__Host-kp_session', login: '__Host-kp_login' }
    : { session: 'kp_session', login: 'kp_login' };
}

/** One cookie from the request's Cookie header. */
export function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Sets a cookie. The session cookie is SameSite=Strict; the sign-in cookie is Lax, because the provider sends the
 * browser back with a top-level navigation from its own site, which a Strict cookie would not accompany.
 */
export function setCookie(
  res: Response,
  name: string,
  value: string,
  opts: { secure: boolean; sameSite: 'Strict' | 'Lax'; maxAgeSeconds: number },
): void {
  const parts = [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    `SameSite=${opts.sameSite}`,
    `Max-Age=${opts.maxAgeSeconds}`,
  ];
  if (opts.secure) parts.push('Secure');
  res.append('Set-Cookie', parts.join('; '));
}

export class SessionStore {
  constructor(
    private readonly db: Queryable,
    private readonly config: Pick<SignInConfig, 'idleMinutes' | 'absoluteHours'>,
  ) {}

  /** Starts a sign-in (state, nonce, PKCE verifier kept here) or a signed-in session; answers the cookie value. */
  async create(
    kind: SessionKind,
    facts: Omit<ConsoleSession, 'kind' | 'csrfToken'>,
    lifetimeSeconds = this.config.absoluteHours * 3600,
  ): Promise<{ id: string; session: ConsoleSession }> {
    const id = randomId();
    const csrfToken = randomId();
    const session: ConsoleSession = { kind, ...facts, csrfToken };
    await insertConsoleSession(this.db, hash(id), session, lifetimeSeconds);
    return { id, session };
  }

  /**
   * The live session of a cookie value: not past its absolute end, not idle longer than allowed. Reading it counts as
   * activity (the idle clock starts again). Ended sessions are removed as they are met.
   */
  async find(id: string | undefined, kind?: SessionKind): Promise<ConsoleSession | undefined> {
    if (!id || id.length > 100) return undefined;
    const found = await consoleSessionByHash(this.db, hash(id), this.config.idleMinutes);
    if (!found) return undefined;
    if (!found.live) {
      await this.end(id);
      return undefined;
    }
    if (kind && found.session.kind !== kind) return undefined;
    await touchConsoleSession(this.db, hash(id));
    return found.session;
  }

  async end(id: string | undefined): Promise<void> {
    if (id) await removeConsoleSession(this.db, hash(id));
    await removeEndedConsoleSessions(this.db, this.config.idleMinutes);
  }
}

/** Whether a request carries the session's CSRF token (compared in constant time). */
export function csrfMatches(session: ConsoleSession, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
