// SMART Backend Services as an integrator meets it: discovery (well-known document, CapabilityStatement, fhir-kit-
// client), clients whose keys live at a jwks_uri and rotate without a restart, token errors that say what was
// expected, and rate limits per client with 429 and Retry-After. Real servers and databases throughout.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'fhir-kit-client';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { registerClients } from '../src/store/clients.js';
import { ROUTE_SCOPES } from '../src/auth/scopes.js';
import type { Config } from '../src/config.js';
import { readClientsFile } from '../src/auth/clients-file.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  clientAssertion,
  ENGINES,
  fhir,
  freshDatabase,
  requestToken,
  sandboxToken,
  testSandbox,
} from './helpers.js';

const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

/** A client's key server: serves whatever key set it is given and counts how often it was asked. */
async function keyServer() {
  let keys: JWK[] = [];
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    publish: (next: JWK[]) => {
      keys = next;
    },
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

async function assertionWith(
  key: { kid: string; privateKey: CryptoKey },
  clientId: string,
  tokenUrl: string,
) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('4m')
    .sign(key.privateKey);
}

const tokenForm = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields),
});

/** A sandbox on a fresh database of the engine for the tests of one describe block, closed after them. */
function sandboxFor(engine: 'pglite' | 'postgres', overrides: Partial<Config>): () => RunningSandbox {
  let sandbox: RunningSandbox | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox(overrides, fresh.db);
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });
  return () => sandbox!;
}

describe.each(ENGINES)('SMART Backend Services (%s)', (engine) => {
  const running = sandboxFor(engine, { jwksCooldownSeconds: 0 });
  let sandbox: RunningSandbox;
  beforeAll(() => {
    sandbox = running();
  });

  it('publishes the token endpoint and the enforced scopes at both well-known locations', async () => {
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const res = await fetch(`${sandbox.url}${path}`);
      expect(res.status).toBe(200);
      const config = (await res.json()) as Record<string, unknown> & { scopes_supported: string[] };
      expect(config).toMatchObject({
        token_endpoint: `${sandbox.url}/auth/token`,
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS384'],
        grant_types_supported: ['client_credentials'],
        capabilities: expect.arrayContaining(['client-confidential-asymmetric', 'permission-v2']),
      });
      // Every scope a route demands is listed, and nothing the gateway never asks for.
      const demanded = new Set(
        ROUTE_SCOPES.flatMap((r) => (/^\w+\.\w+$/.test(r.scope) ? [r.scope.split('.')[0]!] : [])),
      );
      const listedTypes = config.scopes_supported.map((s) => /^system\/(\w+)\.[cruds]+$/.exec(s)?.[1]);
      expect(new Set(listedTypes)).toEqual(demanded);
      expect(config.scopes_supported).toContain('system/Patient.crus');
      expect(config.scopes_supported).toContain('system/Bundle.cr');
    }
  });

  it('grants no scope beyond what the discovery document lists', async () => {
    const listed = (
      (await (await fetch(`${sandbox.url}/.well-known/smart-configuration`)).json()) as {
        scopes_supported: string[];
      }
    ).scopes_supported;
    const actionsOf = new Map(listed.map((s) => [s.split('.')[0]!, s.split('.')[1]!]));
    const res = await requestToken(
      sandbox.url,
      await clientAssertion(`${sandbox.url}/auth/token`, 'sandbox-cjg'),
    );
    const { scope } = (await res.json()) as { scope: string };
    for (const granted of scope.split(' ')) {
      const [type, actions] = granted.split('.') as [string, string];
      expect(
        [...actions].every((a) => actionsOf.get(type)?.includes(a)),
        granted,
      ).toBe(true);
    }
  });

  it('names the token endpoint in the CapabilityStatement, where fhir-kit-client finds it', async () => {
    const caps = await fhir<CapabilityStatement>(sandbox.url, undefined, 'GET', '/fhir/metadata');
    const ext = caps.body.rest?.[0]?.security?.extension?.find((e) => e.url === OAUTH_URIS);
    expect(ext?.extension).toEqual([{ url: 'token', valueUri: `${sandbox.url}/auth/token` }]);
    const client = new Client({ baseUrl: `${sandbox.url}/fhir` });
    const metadata = await client.smartAuthMetadata();
    expect(String(metadata.tokenUrl)).toBe(`${sandbox.url}/auth/token`);
  });

  it('keeps a client working through a key rotation at its jwks_uri, without a restart', async () => {
    const keys = await keyServer();
    try {
      const clientId = `rotating-${engine}`;
      const tokenUrl = `${sandbox.url}/auth/token`;
      const first = await signingKey('first');
      const second = await signingKey('second');
      keys.publish([first.jwk]);
      await registerClients(sandbox.ctx.db, [
        { clientId, role: 'cjg', organization: 'Organization/cjg-venlo', jwksUri: keys.url },
      ]);
      expect((await requestToken(sandbox.url, await assertionWith(first, clientId, tokenUrl))).status).toBe(
        200,
      );
      expect((await requestToken(sandbox.url, await assertionWith(first, clientId, tokenUrl))).status).toBe(
        200,
      );
      expect(keys.fetches()).toBe(1); // the key set is cached
      // The client publishes its new key and drops the old one; its next assertion names the new kid.
      keys.publish([second.jwk]);
      const rotated = await requestToken(sandbox.url, await assertionWith(second, clientId, tokenUrl));
      expect(rotated.status).toBe(200);
      expect(keys.fetches()).toBe(2);
      const token = ((await rotated.json()) as { access_token: string }).access_token;
      expect((await fhir(sandbox.url, token, 'GET', '/fhir/Patient?_count=1')).status).toBe(200);
      // The dropped key no longer buys a token, and the answer names the key set and the kid.
      const old = await requestToken(sandbox.url, await assertionWith(first, clientId, tokenUrl));
      expect(old.status).toBe(401);
      expect(await old.json()).toEqual({
        error: 'invalid_client',
        error_description: `no key in the key set at ${keys.url} matches the client_assertion (kid "first")`,
      });
    } finally {
      await keys.close();
    }
  });

  it('refuses a token, naming the key set, when the jwks_uri cannot be reached', async () => {
    const keys = await keyServer();
    const key = await signingKey('only');
    const clientId = `unreachable-${engine}`;
    await registerClients(sandbox.ctx.db, [
      { clientId, role: 'gp', organization: 'Organization/huisartsen-de-linde', jwksUri: keys.url },
    ]);
    await keys.close();
    const res = await requestToken(
      sandbox.url,
      await assertionWith(key, clientId, `${sandbox.url}/auth/token`),
    );
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toContain(`the key set at ${keys.url} could not be read`);
  });

  it('says which content type, grant type and audience it expected', async () => {
    const json = await fetch(`${sandbox.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The body must be application/x-www-form-urlencoded (it was application/json)',
    });
    const grant = await fetch(`${sandbox.url}/auth/token`, tokenForm({ grant_type: 'password' }));
    expect(await grant.json()).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'grant_type must be client_credentials (it was "password")',
    });
    const wrongAud = 'https://elders.example/token';
    const aud = await requestToken(
      sandbox.url,
      await clientAssertion(`${sandbox.url}/auth/token`, 'sandbox-cjg', { audience: wrongAud }),
    );
    expect(aud.status).toBe(401);
    expect(((await aud.json()) as { error_description: string }).error_description).toBe(
      `client_assertion aud must be ${sandbox.url}/auth/token (it was "${wrongAud}")`,
    );
  });
});

describe.each(ENGINES)('rate limits per client (%s)', (engine) => {
  const running = sandboxFor(engine, { rateLimitToken: 3, rateLimitApi: 5, rateLimitWindowSeconds: 60 });
  let sandbox: RunningSandbox;
  beforeAll(() => {
    sandbox = running();
  });

  it('answers 429 with Retry-After once a client has used its token requests, and only for that client', async () => {
    const tokenUrl = `${sandbox.url}/auth/token`;
    for (let i = 0; i < 3; i++)
      expect((await requestToken(sandbox.url, await clientAssertion(tokenUrl, 'sandbox-gi'))).status).toBe(
        200,
      );
    const refused = await requestToken(sandbox.url, await clientAssertion(tokenUrl, 'sandbox-gi'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const body = (await refused.json()) as { error: string; error_description: string };
    expect(body.error).toBe('temporarily_unavailable');
    expect(body.error_description).toMatch(/at most 3 per 60 s/);
    expect((await requestToken(sandbox.url, await clientAssertion(tokenUrl, 'sandbox-school'))).status).toBe(
      200,
    );
  });

  it('answers 429 with Retry-After and an OperationOutcome once a client has used its API requests', async () => {
    const cjg = await sandboxToken(sandbox, 'cjg');
    const gp = await sandboxToken(sandbox, 'gp');
    for (let i = 0; i < 5; i++)
      expect((await fhir(sandbox.url, cjg, 'GET', '/fhir/Patient')).status).toBe(200);
    const refused = await fhir<{ resourceType: string; issue: { code: string; diagnostics: string }[] }>(
      sandbox.url,
      cjg,
      'GET',
      '/fhir/Patient',
    );
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect(refused.body.issue[0]!.code).toBe('throttled');
    expect(refused.body.issue[0]!.diagnostics).toMatch(/^Te veel verzoeken .* \/ Too many requests/);
    // Another client is not held back by the first.
    expect((await fhir(sandbox.url, gp, 'GET', '/fhir/Patient')).status).toBe(200);
  });
});

describe('the clients file', () => {
  it('takes a jwksUri over https, or http on the loopback address, and refuses any other', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'clients-'));
    const file = path.join(dir, 'clients.json');
    const client = (jwksUri: string) => ({
      clientId: 'c',
      role: 'gp',
      organization: 'Organization/gp',
      jwksUri,
    });
    try {
      for (const good of [
        'https://keys.example/jwks.json',
        'http://127.0.0.1:9999/jwks',
        'http://localhost/jwks',
      ]) {
        await writeFile(file, JSON.stringify([client(good)]));
        expect((await readClientsFile(file))[0]!.jwksUri).toBe(good);
      }
      await writeFile(file, JSON.stringify([client('http://keys.example/jwks.json')]));
      await expect(readClientsFile(file)).rejects.toThrow(
        '/0/jwksUri jwksUri "http://keys.example/jwks.json" must be an https URL (http only on localhost)',
      );
      await writeFile(
        file,
        JSON.stringify([{ ...client('https://keys.example/j'), jwks: { keys: [{ kty: 'EC' }] } }]),
      );
      await expect(readClientsFile(file)).rejects.toThrow(/must match exactly one schema in oneOf/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
