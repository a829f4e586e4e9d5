// The gateway's signing keys, shared by every process through the database.
import type { JWK } from 'jose';
import type { Queryable } from './database.js';

export interface StoredGatewayKey {
  kid: string;
  private_jwk: JWK;
  public_jwk: JWK;
}

/** The signing key in use: the first one made. */
export async function firstGatewayKey(db: Queryable): Promise<StoredGatewayKey | undefined> {
  const rows = await db.query<StoredGatewayKey>(
    'SELECT kid, private_jwk, public_jwk FROM gateway_keys ORDER BY created_at, kid LIMIT 1',
  );
  return rows[0];
}

/** Stores a new key pair (a kid stored before is left as it is); the first key made stays the one in use. */
export async function insertGatewayKey(db: Queryable, key: StoredGatewayKey): Promise<void> {
  await db.query(
    'INSERT INTO gateway_keys (kid, private_jwk, public_jwk) VALUES ($1, $2::jsonb, $3::jsonb) ON CONFLICT DO NOTHING',
    [key.kid, JSON.stringify(key.private_jwk), JSON.stringify(key.public_jwk)],
  );
}
