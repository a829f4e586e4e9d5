// The keys a client's assertions are checked against: its registered JWKS, or the key set it publishes at its
// jwks_uri, fetched, cached and fetched again when an assertion names a key id the cache does not hold (after a
// cooldown), so that a client rotating its key needs no restart of the gateway.
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface ClientKeySource {
  clientId: string;
  jwks?: JSONWebKeySet;
  jwksUri?: string;
}

export interface ClientKeyOptions {
  /** How long fetched keys are used before they are fetched again, in seconds. */
  cacheSeconds: number;
  /** The least time between two fetches for an unknown key id, in seconds. */
  cooldownSeconds: number;
  /** How long a fetch of a key set may take, in milliseconds. */
  timeoutMs: number;
}

const DEFAULTS: ClientKeyOptions = { cacheSeconds: 600, cooldownSeconds: 30, timeoutMs: 5000 };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether a jwks_uri may be registered: https, or http on the loopback interface only (a local key server, tests).
 * Returns the reason when it may not.
 */
export function jwksUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `jwksUri "${uri}" is not a URL`;
  }
  if (url.username || url.password || url.hash)
    return `jwksUri "${uri}" must not hold credentials or a fragment`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return `jwksUri "${uri}" must be an https URL (http only on localhost)`;
}

export class ClientKeys {
  private readonly remote = new Map<string, JWTVerifyGetKey>();
  private readonly options: ClientKeyOptions;

  constructor(options: Partial<ClientKeyOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** The key lookup for a client's assertions; one shared cache per jwks_uri. */
  keysOf(client: ClientKeySource): JWTVerifyGetKey {
    if (client.jwksUri) {
      let keys = this.remote.get(client.jwksUri);
      if (!keys) {
        keys = createRemoteJWKSet(new URL(client.jwksUri), {
          cacheMaxAge: this.options.cacheSeconds * 1000,
          cooldownDuration: this.options.cooldownSeconds * 1000,
          timeoutDuration: this.options.timeoutMs,
        });
        this.remote.set(client.jwksUri, keys);
      }
      return keys;
    }
    return createLocalJWKSet(client.jwks ?? { keys: [] });
  }
}
