// SMART Backend Services discovery: /.well-known/smart-configuration (at the root and below the FHIR base, where
// SMART clients look) and the oauth-uris extension of the CapabilityStatement, both naming the token endpoint.
import type { Extension } from '@medplum/fhirtypes';
import { ROLES } from '../auth/access.js';
import { roleScopes } from '../auth/scopes.js';

export const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';
const ACTION_ORDER = 'cruds';

/**
 * Every scope the gateway grants and enforces, as SMART v2 system scopes per resource type: for each type the union
 * of what any agency role may be granted (scopes.ts). A client asking more gets its role's share of it.
 */
export function scopesSupported(): string[] {
  const union = new Map<string, Set<string>>();
  for (const role of ROLES) {
    if (role === 'person') continue;
    for (const [type, actions] of roleScopes(role)) {
      const have = union.get(type) ?? new Set<string>();
      for (const a of actions) have.add(a);
      union.set(type, have);
    }
  }
  return [...union]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, actions]) => `system/${type}.${[...ACTION_ORDER].filter((a) => actions.has(a)).join('')}`);
}

export function smartConfiguration(baseUrl: string) {
  return {
    token_endpoint: `${baseUrl}/auth/token`,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS384'],
    grant_types_supported: ['client_credentials'],
    scopes_supported: scopesSupported(),
    capabilities: ['client-confidential-asymmetric', 'permission-v2', 'permission-v1'],
    jwks_uri: `${baseUrl}/.well-known/jwks.json`,
  };
}

/** The CapabilityStatement's rest.security extension naming the token endpoint. */
export function oauthUris(baseUrl: string): Extension {
  return { url: OAUTH_URIS, extension: [{ url: 'token', valueUri: `${baseUrl}/auth/token` }] };
}

export const SMART_CONFIGURATION_PATHS = [
  '/.well-known/smart-configuration',
  '/fhir/.well-known/smart-configuration',
] as const;
