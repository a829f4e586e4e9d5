// SMART Backend Services: the real client-assertion flow, and every way an assertion or token must be refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { loadConfig } from '../src/config.js';
import { startGateway, type RunningGateway } from '../src/server.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  clientAssertion,
  clientKey,
  fhir,
  freshDatabase,
  patientResource,
  requestToken,
  sandboxToken,
  testBsn,
  testConfig,
  testSandbox,
} from './helpers.js';

/** A request with a Host header of the caller's choosing (fetch does not let one set it). */
function withHost(
  port: number,
  host: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers: { host, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const form = (assertion: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    ...extra,
  }).toString();

describe('POST /auth/token', () => {
  let sandbox: RunningSandbox;
  let tokenUrl: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    tokenUrl = `${sandbox.url}/auth/token`;
  });
  afterAll(() => sandbox.close());

  it('issues a token for a valid ES256 assertion, and the token opens the FHIR API with the client role', async () => {
    const res = await requestToken(sandbox.url, await clientAssertion(tokenUrl, 'sandbox-gp'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      access_token: string;
      token_type: string;
      expires_in: number;
      scope: string;
    };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBeGreaterThan(0);
    // What the GP asked for (system/*.read system/*.write), narrowed to what its role may have, as v2 scopes.
    expect(body.scope.split(' ')).toContain('system/Patient.crus');
    expect(body.scope.split(' ')).toContain('system/Organization.rs');
    expect(body.scope).not.toMatch(/AuditEvent|MeasureReport|\*/);
    const search = await fhir(sandbox.url, body.access_token, 'GET', '/fhir/Organization?_count=1');
    expect(search.status).toBe(200);
    const audit = await fhir(sandbox.url, body.access_token, 'GET', '/fhir/AuditEvent');
    expect(audit.status).toBe(403);
  });

  it('rejects an assertion signed with a key that is not registered', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const res = await requestToken(
      sandbox.url,
      await clientAssertion(tokenUrl, 'sandbox-gp', { key: privateKey }),
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('rejects alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = new UnsecuredJWT({ jti: 'x1' })
      .setIssuer('sandbox-gp')
      .setSubject('sandbox-gp')
      .setAudience(tokenUrl)
      .setExpirationTime(now + 60)
      .encode();
    const res = await requestToken(sandbox.url, unsigned);
    expect(res.status).toBe(401);
  });

  it('rejects an expired assertion and one that lives longer than five minutes', async () => {
    const expired = await requestToken(
      sandbox.url,
      await clientAssertion(tokenUrl, 'sandbox-gp', { expiresIn: -120 }),
    );
    expect(expired.status).toBe(401);
    const tooLong = await requestToken(
      sandbox.url,
      await clientAssertion(tokenUrl, 'sandbox-gp', { expiresIn: 3600 }),
    );
    expect(tooLong.status).toBe(401);
  });

  it('rejects a replayed jti', async () => {
    const assertion = await clientAssertion(tokenUrl, 'sandbox-cjg', { jti: 'replay-me-once' });
    expect((await requestToken(sandbox.url, assertion)).status).toBe(200);
    const again = await requestToken(sandbox.url, assertion);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error_description: string }).error_description).toMatch(/already used/);
  });

  it('rejects a wrong audience and an unknown client', async () => {
    expect(
      (
        await requestToken(
          sandbox.url,
          await clientAssertion(tokenUrl, 'sandbox-gp', { audience: 'https://elsewhere.example/token' }),
        )
      ).status,
    ).toBe(401);
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const stranger = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('nobody')
      .setSubject('nobody')
      .setAudience(tokenUrl)
      .setJti('j')
      .setExpirationTime(now + 60)
      .sign(privateKey);
    expect((await requestToken(sandbox.url, stranger)).status).toBe(401);
  });

  it('answers 400 with an OAuth error for a wrong grant type', async () => {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('unsupported_grant_type');
  });

  it('answers 401 OperationOutcome with WWW-Authenticate for no token and for a forged token', async () => {
    const none = await fhir(sandbox.url, undefined, 'GET', '/fhir/Patient');
    expect(none.status).toBe(401);
    expect(none.body.resourceType).toBe('OperationOutcome');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ role: 'privacy-officer', org: 'Organization/privacy-office' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('ketenpoort')
      .setAudience('ketenpoort')
      .setSubject('sandbox-privacy-officer')
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await fhir(sandbox.url, forged, 'GET', '/fhir/AuditEvent')).status).toBe(401);
  });

  it('lists one sandbox client per role', async () => {
    const res = await fetch(`${sandbox.url}/sandbox/clients`);
    const clients = (await res.json()) as {
      clientId: string;
      role: string;
      organization: { reference: string };
    }[];
    const roles = clients.map((c) => c.role).sort();
    expect(roles).toEqual([
      'admin',
      'cjg',
      'gi',
      'gp',
      'municipality',
      'privacy-officer',
      'research',
      'rvdk',
      'school',
      'veilig-thuis',
      'youth-care',
    ]);
    for (const c of clients) expect(c.clientId).toBe(`sandbox-${c.role}`);
  });
});

describe('outside sandbox mode', () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway(testConfig());
  });
  afterAll(() => gateway.close());

  it('has no /sandbox routes', async () => {
    expect((await fetch(`${gateway.url}/sandbox/clients`)).status).toBe(404);
    const token = await fetch(`${gateway.url}/sandbox/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"clientId":"sandbox-cjg"}',
    });
    expect(token.status).toBe(404);
  });
});

describe('the token audience and every link come from configuration, never from the Host header', () => {
  let sandbox: RunningSandbox;
  let port: number;
  beforeAll(async () => {
    sandbox = await testSandbox();
    port = (sandbox.server.address() as AddressInfo).port;
  });
  afterAll(() => sandbox.close());

  it('derives the sandbox base URL from the address it listens on', () => {
    expect(sandbox.url).toBe(`http://localhost:${port}`);
    expect(sandbox.ctx.config.baseUrl).toBe(sandbox.url);
  });

  it('refuses an assertion addressed to the token URL that a forged Host header names', async () => {
    const assertion = await clientAssertion('http://other-service.example/auth/token', 'sandbox-gp');
    const res = await withHost(
      port,
      'other-service.example',
      'POST',
      '/auth/token',
      { 'content-type': 'application/x-www-form-urlencoded' },
      form(assertion),
    );
    expect(res.status).toBe(401);
    expect((JSON.parse(res.body) as { error: string }).error).toBe('invalid_client');
  });

  it('never reflects a forged Host header in links, Location headers or descriptions', async () => {
    const token = await sandboxToken(sandbox, 'cjg');
    const auth = { authorization: `Bearer ${token}`, accept: 'application/fhir+json' };
    const created = await withHost(
      port,
      'evil.example',
      'POST',
      '/fhir/Patient',
      { ...auth, 'content-type': 'application/fhir+json' },
      JSON.stringify(patientResource(testBsn(), '2015-06-01')),
    );
    expect(created.status).toBe(201);
    expect(created.headers.location).toMatch(new RegExp(`^${sandbox.url}/fhir/Patient/`));
    const answers = [
      created.body,
      (await withHost(port, 'evil.example', 'GET', '/fhir/metadata')).body,
      (await withHost(port, 'evil.example', 'GET', '/openapi.json')).body,
      (await withHost(port, 'evil.example', 'GET', '/fhir/Organization?_count=1', auth)).body,
      (await withHost(port, 'evil.example', 'GET', '/fhir/Patient?_count=1', auth)).body,
    ];
    for (const body of answers) expect(body).not.toContain('evil.example');
    const search = JSON.parse(answers[3]!) as { link: { url: string }[]; entry: { fullUrl: string }[] };
    expect(search.link.map((l) => l.url)).toContain(`${sandbox.url}/fhir/Organization?_count=1&_offset=0`);
    expect(search.entry[0]!.fullUrl.startsWith(`${sandbox.url}/fhir/Organization/`)).toBe(true);
  });
});

describe('with BASE_URL set', () => {
  const BASE = 'https://ketenpoort.example.nl';
  let sandbox: RunningSandbox;
  let local: string;
  beforeAll(async () => {
    sandbox = await testSandbox({ baseUrl: BASE });
    local = `http://localhost:${(sandbox.server.address() as AddressInfo).port}`;
  });
  afterAll(() => sandbox.close());

  it('accepts only assertions addressed to BASE_URL/auth/token, whichever host the request reached', async () => {
    expect(sandbox.url).toBe(BASE);
    const right = await requestToken(local, await clientAssertion(`${BASE}/auth/token`, 'sandbox-cjg'));
    expect(right.status).toBe(200);
    const reached = await requestToken(local, await clientAssertion(`${local}/auth/token`, 'sandbox-cjg'));
    expect(reached.status).toBe(401);
    const metadata = await fhir<{ implementation: { url: string } }>(
      local,
      undefined,
      'GET',
      '/fhir/metadata',
    );
    expect(metadata.body.implementation.url).toBe(`${BASE}/fhir`);
  });
});

describe('production start-up', () => {
  const env = { PORT: '0', DATA_DIR: 'memory://', LOG_LEVEL: 'silent' };

  it('refuses to start without BASE_URL outside the sandbox and tests', async () => {
    await expect(startGateway(loadConfig(env))).rejects.toThrow(/BASE_URL is required/);
  });

  it('starts with BASE_URL, and refuses a BASE_URL that is not an http(s) URL', async () => {
    const gateway = await startGateway(loadConfig({ ...env, BASE_URL: 'https://ketenpoort.example.nl/' }));
    try {
      expect(gateway.url).toBe('https://ketenpoort.example.nl');
    } finally {
      await gateway.close();
    }
    expect(() => loadConfig({ ...env, BASE_URL: 'ketenpoort.example.nl' })).toThrow(/BASE_URL/);
    expect(() => loadConfig({ ...env, BASE_URL: 'https://a.example/?x=1' })).toThrow(/BASE_URL/);
  });
});

describe('token endpoint errors in OAuth form (RFC 6749 §5.2)', () => {
  let sandbox: RunningSandbox;
  let tokenUrl: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    tokenUrl = `${sandbox.url}/auth/token`;
  });
  afterAll(() => sandbox.close());

  const post = (body: string, contentType = 'application/x-www-form-urlencoded') =>
    fetch(tokenUrl, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('answers an oversized body with 413 invalid_request that names the real limit', async () => {
    const res = await post(form('x'.repeat(70_000)));
    expect(res.status).toBe(413);
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toContain('64kb');
    expect(body.resourceType).toBeUndefined();
  });

  it('answers a body that is not a form with 400 invalid_request', async () => {
    const assertion = await clientAssertion(tokenUrl, 'sandbox-gp');
    const res = await post(
      JSON.stringify({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
      'application/json',
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toMatch(/x-www-form-urlencoded/);
  });

  it('refuses an assertion whose jti is not a string', async () => {
    const { jwk, key } = await clientKey('sandbox-gp');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: 12345 as unknown as string })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' })
      .setIssuer('sandbox-gp')
      .setSubject('sandbox-gp')
      .setAudience(tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + 120)
      .sign(key);
    const res = await post(form(assertion));
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toMatch(/jti must be a string/);
  });

  it.runIf(process.env.TEST_DATABASE_URL)(
    'answers 503 temporarily_unavailable when storage is unavailable',
    async () => {
      const { url, drop } = await freshDatabase('postgres');
      const target = new URL(url!);
      const upstreamPort = Number(target.port || 5432);
      const upstreamHost = target.hostname;
      // A TCP proxy in front of PostgreSQL that the test cuts.
      const sockets = new Set<net.Socket>();
      const proxy = net.createServer((client) => {
        const upstream = net.connect(upstreamPort, upstreamHost);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const end = () => (client.destroy(), upstream.destroy());
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      target.hostname = '127.0.0.1';
      target.port = String((proxy.address() as AddressInfo).port);
      const down = await testSandbox({ databaseUrl: target.toString() });
      try {
        const assertion = await clientAssertion(`${down.url}/auth/token`, 'sandbox-gp');
        await new Promise<void>((r) => {
          proxy.close(() => r());
          for (const s of sockets) s.destroy();
        });
        const res = await requestToken(down.url, assertion);
        expect(res.status).toBe(503);
        const body = (await res.json()) as Record<string, string>;
        expect(body.error).toBe('temporarily_unavailable');
        expect(body.resourceType).toBeUndefined();
      } finally {
        await down.close().catch(() => undefined);
        await drop().catch(() => undefined);
      }
    },
    60_000,
  );
});

describe('scopes', () => {
  let sandbox: RunningSandbox;
  let tokenUrl: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    tokenUrl = `${sandbox.url}/auth/token`;
  });
  afterAll(() => sandbox.close());

  async function token(clientId: string, scope: string) {
    return requestToken(sandbox.url, await clientAssertion(tokenUrl, clientId), scope);
  }
  async function granted(clientId: string, scope: string): Promise<string> {
    const res = await token(clientId, scope);
    expect(res.status).toBe(200);
    return ((await res.json()) as { scope: string }).scope;
  }

  it('refuses a Patient create with a token that only holds system/Organization.read (403 insufficient_scope)', async () => {
    const res = await token('sandbox-school', 'system/Organization.read');
    const { access_token, scope } = (await res.json()) as { access_token: string; scope: string };
    expect(scope).toBe('system/Organization.rs');
    const create = await fhir(
      sandbox.url,
      access_token,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), '2016-01-01'),
    );
    expect(create.status).toBe(403);
    expect(create.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(JSON.stringify(create.body)).toContain('system/Patient.c');
    expect((await fhir(sandbox.url, access_token, 'GET', '/fhir/Organization?_count=1')).status).toBe(200);
  });

  it('maps SMART v1 scopes onto v2 and narrows them to what the role may have', async () => {
    expect(await granted('sandbox-cjg', 'system/Patient.read')).toBe('system/Patient.rs');
    // No role may delete: write = cud becomes cu.
    expect(await granted('sandbox-cjg', 'system/Patient.write')).toBe('system/Patient.cu');
    expect(await granted('sandbox-cjg', 'system/Patient.cruds')).toBe('system/Patient.crus');
    const research = (await granted('sandbox-research', 'system/*.read')).split(' ');
    expect(research).toContain('system/Task.rs');
    expect(research).toContain('system/MeasureReport.r');
    expect(research.join(' ')).not.toMatch(/Patient|RelatedPerson|AuditEvent/);
    expect(await granted('sandbox-gp', 'openid launch user/Patient.rs system/Patient.rs')).toBe(
      'system/Patient.rs',
    );
  });

  it('answers 400 invalid_scope when nothing asked for may be granted to the role', async () => {
    const res = await token('sandbox-research', 'system/Patient.rs system/AuditEvent.rs');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_scope');
  });

  it('holds each transaction entry to the scope of its own type and method', async () => {
    const res = await token('sandbox-cjg', 'system/Patient.c');
    const { access_token } = (await res.json()) as { access_token: string };
    const transaction = (...entries: unknown[]) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: entries,
    });
    const newPatient = () => ({
      fullUrl: 'urn:uuid:8d3c2f8e-1b7a-4f7e-9a51-0f3c1d2e4b01',
      resource: patientResource(testBsn(), '2016-01-01'),
      request: { method: 'POST', url: 'Patient' },
    });
    const patientOnly = await fhir(sandbox.url, access_token, 'POST', '/fhir', transaction(newPatient()));
    expect(patientOnly.status).toBe(200);
    const withParent = await fhir(
      sandbox.url,
      access_token,
      'POST',
      '/fhir',
      transaction(newPatient(), {
        resource: {
          resourceType: 'RelatedPerson',
          patient: { reference: 'urn:uuid:8d3c2f8e-1b7a-4f7e-9a51-0f3c1d2e4b01' },
          identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: testBsn() }],
        },
        request: { method: 'POST', url: 'RelatedPerson' },
      }),
    );
    expect(withParent.status).toBe(403);
    expect(JSON.stringify(withParent.body)).toContain('system/RelatedPerson.c');
  });

  it('holds a conditional create to create and search on the type', async () => {
    const res = await token('sandbox-cjg', 'system/Patient.c');
    const { access_token } = (await res.json()) as { access_token: string };
    const bsn = testBsn();
    const plain = await fhir(
      sandbox.url,
      access_token,
      'POST',
      '/fhir/Patient',
      patientResource(bsn, '2016-01-01'),
    );
    expect(plain.status).toBe(201);
    const conditional = await fhir(
      sandbox.url,
      access_token,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), '2016-01-01'),
      { 'if-none-exist': `identifier=http://fhir.nl/fhir/NamingSystem/bsn|${bsn}` },
    );
    expect(conditional.status).toBe(403);
  });
});
