// Signed checkpoints of the audit chain: compact JWS (ES256) over {chain, link, hash, at, kind} with the gateway key.
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose';
import type { CheckpointPayload } from './chain.js';

/** The part of the gateway's key that signs checkpoints. */
export interface CheckpointKey {
  kid: string;
  privateKey: CryptoKey;
}

export async function signCheckpoint(key: CheckpointKey, payload: CheckpointPayload): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'ketenpoort-audit-checkpoint' })
    .sign(key.privateKey);
}

/** Verifies with the gateway's public key (a CryptoKey, or a JWK as published at /.well-known/jwks.json). */
export async function verifyCheckpoint(jws: string, publicKey: CryptoKey | JWK): Promise<CheckpointPayload> {
  const key = 'kty' in publicKey ? await importJWK(publicKey, 'ES256') : publicKey;
  const { payload } = await compactVerify(jws, key, { algorithms: ['ES256'] });
  return JSON.parse(new TextDecoder().decode(payload)) as CheckpointPayload;
}
