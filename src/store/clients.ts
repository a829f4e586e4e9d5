// Registered client systems and the assertion ids (jti) they used: the tables behind SMART Backend Services.
import type { JSONWebKeySet } from 'jose';
import type { Queryable } from './database.js';

/** A client system as the clients table holds it; the role is checked where it is used (src/auth). */
export interface StoredClient {
  clientId: string;
  role: string;
  organization: string;
  /** The client's public keys, or the URL it publishes them at (fetched, cached, rotated: src/auth/client-keys.ts). */
  jwks?: JSONWebKeySet;
  jwksUri?: string;
}

/** Registers (or updates and re-activates) each client. */
export async function registerClients(db: Queryable, clients: StoredClient[]): Promise<void> {
  for (const c of clients) {
    await db.query(
      `INSERT INTO clients (client_id, role, organization, jwks, jwks_uri) VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (client_id) DO UPDATE SET role = excluded.role, organization = excluded.organization,
         jwks = excluded.jwks, jwks_uri = excluded.jwks_uri, active = true`,
      [c.clientId, c.role, c.organization, c.jwks ? JSON.stringify(c.jwks) : null, c.jwksUri ?? null],
    );
  }
}

/** An active client by its id, if registered. */
export async function activeClient(db: Queryable, clientId: string): Promise<StoredClient | undefined> {
  const rows = await db.query<{
    client_id: string;
    role: string;
    organization: string;
    jwks: JSONWebKeySet | null;
    jwks_uri: string | null;
  }>('SELECT client_id, role, organization, jwks, jwks_uri FROM clients WHERE client_id = $1 AND active', [
    clientId,
  ]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    clientId: row.client_id,
    role: row.role,
    organization: row.organization,
    ...(row.jwks ? { jwks: row.jwks } : {}),
    ...(row.jwks_uri ? { jwksUri: row.jwks_uri } : {}),
  };
}

/**
 * Records a client's jti until `expiresAt`, forgetting those expired first. False when the client used it before
 * (and it has not expired yet).
 */
export async function recordJtiOnce(
  db: Queryable,
  clientId: string,
  jti: string,
  expiresAt: Date,
): Promise<boolean> {
  await db.query('DELETE FROM used_jti WHERE expires_at < now()');
  const inserted = await db.query(
    'INSERT INTO used_jti (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING jti',
    [clientId, jti, expiresAt],
  );
  return inserted.length > 0;
}
