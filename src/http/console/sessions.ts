// Console sessions kept server-side: a random id in an HttpOnly cookie, its hash and the person's facts in a table.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Queryable } from '../../store/database.js';
import type { SignInConfig } from '../../sign-in-config.js';

export type SessionKind = 'login' | 'officer' | 'person';

export interface ConsoleSession {
  kind: SessionKind;
  subject: string | null;
  displayName: string | null;
  bsn: string | null;
  login: { state: string; nonce: string; verifier: string } | null;
  csrfToken: string;
}

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
    await this.db.query(
      `INSERT INTO console_sessions (id_hash, kind, subject, display_name, bsn, login, csrf_token, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
      [
        hash(id),
        kind,
        facts.subject,
        facts.displayName,
        facts.bsn,
        facts.login ? JSON.stringify(facts.login) : null,
        csrfToken,
        lifetimeSeconds,
      ],
    );
    return { id, session: { kind, ...facts, csrfToken } };
  }

  /**
   * The live session of a cookie value: not past its absolute end, not idle longer than allowed. Reading it counts as
   * activity (the idle clock starts again). Ended sessions are removed as they are met.
   */
  async find(id: string | undefined, kind?: SessionKind): Promise<ConsoleSession | undefined> {
    if (!id || id.length > 100) return undefined;
    const rows = await this.db.query<{
      kind: SessionKind;
      subject: string | null;
      display_name: string | null;
      bsn: string | null;
      login: ConsoleSession['login'];
      csrf_token: string;
      live: boolean;
    }>(
      `SELECT kind, subject, display_name, bsn, login, csrf_token,
         (expires_at > now() AND last_seen_at > now() - make_interval(mins => $2)) AS live
       FROM console_sessions WHERE id_hash = $1`,
      [hash(id), this.config.idleMinutes],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (!row.live) {
      await this.end(id);
      return undefined;
    }
    if (kind && row.kind !== kind) return undefined;
    await this.db.query('UPDATE console_sessions SET last_seen_at = now() WHERE id_hash = $1', [hash(id)]);
    return {
      kind: row.kind,
      subject: row.subject,
      displayName: row.display_name,
      bsn: row.bsn,
      login: row.login,
      csrfToken: row.csrf_token,
    };
  }

  async end(id: string | undefined): Promise<void> {
    if (id) await this.db.query('DELETE FROM console_sessions WHERE id_hash = $1', [hash(id)]);
    await this.db.query(
      `DELETE FROM console_sessions WHERE expires_at < now() OR last_seen_at < now() - make_interval(mins => $1)`,
      [this.config.idleMinutes],
    );
  }
}

/** Whether a request carries the session's CSRF token (compared in constant time). */
export function csrfMatches(session: ConsoleSession, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
