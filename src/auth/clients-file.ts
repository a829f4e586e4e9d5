// Reads the registered clients from a JSON file, checked with ajv so a typo fails at start-up with the path. A client
// gives its public keys (`jwks`) or the URL it publishes them at (`jwksUri`, https; http only on localhost).
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { ROLES } from './access.js';
import type { RegisteredClient } from './auth.js';
import { jwksUriProblem } from './client-keys.js';

const schema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['clientId', 'role', 'organization'],
    oneOf: [{ required: ['jwks'] }, { required: ['jwksUri'] }],
    additionalProperties: false,
    properties: {
      clientId: { type: 'string', minLength: 1 },
      role: { enum: ROLES.filter((r) => r !== 'person') },
      organization: { type: 'string', pattern: '^Organization/[A-Za-z0-9\\-.]{1,64}$' },
      jwks: {
        type: 'object',
        required: ['keys'],
        properties: { keys: { type: 'array', minItems: 1, items: { type: 'object', required: ['kty'] } } },
      },
      jwksUri: { type: 'string', minLength: 1 },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<RegisteredClient[]>(schema);

export async function readClientsFile(path: string): Promise<RegisteredClient[]> {
  const data: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new Error(`clients file ${path} is invalid: ${problems}`);
  }
  const uris = data.flatMap((c, i) => {
    const problem = c.jwksUri === undefined ? undefined : jwksUriProblem(c.jwksUri);
    return problem ? [`/${i}/jwksUri ${problem}`] : [];
  });
  if (uris.length) throw new Error(`clients file ${path} is invalid: ${uris.join('; ')}`);
  return data;
}
