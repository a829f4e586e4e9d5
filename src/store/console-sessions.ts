// The console_sessions table: a session under the hash of its cookie value, with the person's facts, the CSRF token,
// its absolute end and when it was last seen (src/http/console/sessions.ts keeps the session logic).
import type { Queryable } from './database.js';

export type ConsoleSessionKind = 'login' | 'officer' | 'person';

export interface StoredConsoleSession {
  kind: ConsoleSessionKind;
  subject: string | null;
  displayName: string | null;
  bsn: string | null;
  login: { state: string; nonce: string; verifier: string } | null;
  csrfToken: string;
}

/** Stores a session under the hash of its id, ending lifetimeSeconds from now. */
export async function insertConsoleSession(
  db: Queryable,
  idHash: string,
  session: StoredConsoleSession,
  lifetimeSeconds: number,
): Promise<void> {
  await db.query(
    `INSERT INTO console_sessions (id_hash, kind, subject, display_name, bsn, login, csrf_token, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
    [
      idHash,
      session.kind,
      session.subject,
      session.displayName,
      session.bsn,
      session.login ? JSON.stringify(session.login) : null,
      session.csrfToken,
      lifetimeSeconds,
    ],
  );
}

/** The session stored under a hash, and whether it is live: not past its end, not idle longer than idleMinutes. */
export async function consoleSessionByHash(
  db: Queryable,
  idHash: string,
  idleMinutes: number,
): Promise<{ session: StoredConsoleSession; live: boolean } | undefined> {
  const rows = await db.query<{
    kind: ConsoleSessionKind;
    subject: string | null;
    display_name: string | null;
    bsn: string | null;
    login: StoredConsoleSession['login'];
    csrf_token: string;
    live: boolean;
  }>(
    `SELECT kind, subject, display_name, bsn, login, csrf_token,
         (expires_at > now() AND last_seen_at > now() - make_interval(mins => $2)) AS live
       FROM console_sessions WHERE id_hash = $1`,
    [idHash, idleMinutes],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    session: {
      kind: row.kind,
      subject: row.subject,
      displayName: row.display_name,
      bsn: row.bsn,
      login: row.login,
      csrfToken: row.csrf_token,
    },
    live: row.live,
  };
}

/** Notes activity on a session: its idle clock starts again. */
export async function touchConsoleSession(db: Queryable, idHash: string): Promise<void> {
  await db.query('UPDATE console_sessions SET last_seen_at = now() WHERE id_hash = $1', [idHash]);
}

/** Removes the session stored under a hash. */
export async function removeConsoleSession(db: Queryable, idHash: string): Promise<void> {
  await db.query('DELETE FROM console_sessions WHERE id_hash = $1', [idHash]);
}

/** Removes every session past its end or idle longer than idleMinutes. */
export async function removeEndedConsoleSessions(db: Queryable, idleMinutes: number): Promise<void> {
  await db.query(
    `DELETE FROM console_sessions WHERE expires_at < now() OR last_seen_at < now() - make_interval(mins => $1)`,
    [idleMinutes],
  );
}
