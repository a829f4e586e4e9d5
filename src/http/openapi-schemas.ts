// The schemas and shared responses of the OpenAPI description. FHIR resources are named by reference: a component per
// resource type that fixes `resourceType` and points at the R4 definition (and the Ketenpoort profile, if any).
type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

export function fhirResourceSchema(type: string, profiles: string[] = []): Schema {
  return {
    type: 'object',
    description: `A FHIR R4 ${type}${profiles.length ? `, conforming to ${profiles.join(' or ')}` : ''}.`,
    required: ['resourceType'],
    properties: {
      resourceType: { const: type },
      id: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' },
      meta: { type: 'object' },
    },
    additionalProperties: true,
    externalDocs: { url: `https://hl7.org/fhir/R4/${type.toLowerCase()}.html` },
  };
}

/** Schemas of the routes outside FHIR. */
export const PLAIN_SCHEMAS: Record<string, Schema> = {
  TokenRequest: {
    type: 'object',
    required: ['grant_type', 'client_assertion_type', 'client_assertion'],
    properties: {
      grant_type: { const: 'client_credentials' },
      client_assertion_type: { const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
      client_assertion: {
        type: 'string',
        description:
          'A JWT (ES256 or RS384) with iss = sub = client_id, aud = the token endpoint, exp ≤ 5 min, jti',
      },
      scope: { type: 'string', description: 'Space-separated SMART scopes; system/*.* when absent' },
    },
  },
  TokenResponse: {
    type: 'object',
    required: ['access_token', 'token_type', 'expires_in', 'scope'],
    properties: {
      access_token: { type: 'string' },
      token_type: { const: 'Bearer' },
      expires_in: { type: 'integer' },
      scope: { type: 'string' },
    },
  },
  OAuthError: {
    type: 'object',
    required: ['error', 'error_description'],
    properties: { error: { type: 'string' }, error_description: { type: 'string' } },
  },
  SmartConfiguration: {
    type: 'object',
    required: ['token_endpoint', 'scopes_supported', 'capabilities'],
    properties: {
      token_endpoint: { type: 'string', format: 'uri' },
      token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
      token_endpoint_auth_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
      grant_types_supported: { type: 'array', items: { type: 'string' } },
      scopes_supported: { type: 'array', items: { type: 'string' } },
      capabilities: { type: 'array', items: { type: 'string' } },
      jwks_uri: { type: 'string', format: 'uri' },
    },
  },
  Jwks: {
    type: 'object',
    required: ['keys'],
    properties: { keys: { type: 'array', items: { type: 'object' } } },
  },
  Status: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string' }, version: { type: 'string' }, database: { type: 'string' } },
  },
  Json: { type: 'object', additionalProperties: true },
};

const outcomeJson = { 'application/fhir+json': { schema: ref('OperationOutcome') } };
const oauthJson = { 'application/json': { schema: ref('OAuthError') } };

/** What each error status means, for the shared responses (`#/components/responses/E<status>`). */
export const ERROR_MEANINGS: Record<number, string> = {
  400: 'Unparseable body, or a missing or malformed parameter (OperationOutcome)',
  401: 'No valid access token (OperationOutcome, WWW-Authenticate)',
  403: 'The scope or the role does not allow this, or the decision is deny (OperationOutcome with a reason code)',
  404: 'No such resource, or not one of the caller\u2019s own (OperationOutcome)',
  409: 'Conflict: already registered, or an Idempotency-Key used with another body (OperationOutcome)',
  412: 'If-Match names another version, or If-None-Exist matches more than one (OperationOutcome)',
  413: 'The body is larger than BODY_LIMIT (OperationOutcome)',
  422: 'A profile or business rule is violated; each issue names its element path (OperationOutcome)',
  429: 'Too many requests by this client; Retry-After says when to try again (OperationOutcome)',
  502: 'The source agency answered with an error; no data are returned (OperationOutcome)',
  503: 'Storage is unavailable; nothing was done (OperationOutcome)',
  504: 'The source agency did not answer in time; no data are returned (OperationOutcome)',
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds until the client may try again', schema: { type: 'integer' } },
};

export function sharedResponses(): Record<string, Schema> {
  const responses: Record<string, Schema> = {};
  for (const [status, description] of Object.entries(ERROR_MEANINGS))
    responses[`E${status}`] = {
      description,
      content: outcomeJson,
      ...(status === '429' ? { headers: RETRY_AFTER } : {}),
    };
  for (const status of [400, 401, 413, 429, 503])
    responses[`OAuth${status}`] = {
      description: `OAuth error (RFC 6749 §5.2): ${ERROR_MEANINGS[status]!.replace(/ \(OperationOutcome.*\)$/, '')}`,
      content: oauthJson,
      ...(status === 429 ? { headers: RETRY_AFTER } : {}),
    };
  return responses;
}
