// What the token endpoint says when a client assertion is refused: what was expected, and what came instead, so an
// integrator can fix the assertion from the answer alone (never a key or a secret in the text).
import { decodeProtectedHeader } from 'jose';

/** A form value as the answer quotes it. */
export function given(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

interface JoseLike {
  code?: string;
  claim?: string;
  payload?: Record<string, unknown>;
  message?: string;
}

/** The error description for an assertion that jose refused, naming what the gateway expected. */
export function assertionProblem(
  err: unknown,
  client: { clientId: string; jwksUri?: string },
  tokenUrl: string,
  assertion?: string,
): string {
  const e = (err ?? {}) as JoseLike;
  const claims = e.payload ?? {};
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return `client_assertion has expired (exp ${String(claims.exp)}); make a new one for each token request`;
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'aud') return `client_assertion aud must be ${tokenUrl} (it was ${given(claims.aud)})`;
      if (e.claim === 'iss' || e.claim === 'sub')
        return `client_assertion ${e.claim} must be the client_id ${client.clientId} (it was ${given(claims[e.claim])})`;
      return `client_assertion claim ${e.claim ?? ''} is not valid: ${e.message ?? ''}`.trim();
    case 'ERR_JWKS_NO_MATCHING_KEY': {
      const kid = assertion ? kidOf(assertion) : undefined;
      const where = client.jwksUri ? `the key set at ${client.jwksUri}` : 'the registered key set';
      return `no key in ${where} matches the client_assertion (kid ${given(kid)})`;
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return "client_assertion signature does not verify with the client's registered key";
    case 'ERR_JWKS_TIMEOUT':
      return `the key set at ${client.jwksUri ?? 'jwks_uri'} did not answer in time; no token was issued`;
    default:
      if (
        client.jwksUri &&
        (e.code === undefined || e.code === 'ERR_JOSE_GENERIC' || e.code === 'ERR_JWKS_INVALID')
      )
        return `the key set at ${client.jwksUri} could not be read (${e.message ?? 'fetch failed'}); no token was issued`;
      return `client_assertion rejected: ${e.message ?? 'not valid'}`;
  }
}

function kidOf(jwt: string): string | undefined {
  try {
    return decodeProtectedHeader(jwt).kid;
  } catch {
    return undefined;
  }
}
