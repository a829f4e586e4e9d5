// SMART Backend Services: the real client-assertion flow, and every way an assertion or token must be refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { startGateway, type RunningGateway } from '../src/server.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { clientAssertion, fhir, requestToken, testConfig, testSandbox } from './helpers.js';

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
    expect(body.scope).toBe('system/*.read system/*.write');
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
