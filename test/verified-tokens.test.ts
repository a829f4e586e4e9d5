// A verified access token is remembered until it expires, and no longer: an expired token is refused even after it
// was accepted before, and a token whose signature was altered is refused while the genuine one is remembered.
import { afterAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/access.js';
import { VerifiedTokens } from '../src/auth/verified-tokens.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { sandboxToken, testSandbox } from './helpers.js';

const principal: Principal = {
  clientId: 'sandbox-cjg',
  role: 'cjg',
  org: 'Organization/cjg-venlo',
  scope: '',
};

describe('remembered access tokens', () => {
  it('gives the principal of a remembered token until its expiry, then forgets it', () => {
    let now = 1_000_000;
    const tokens = new VerifiedTokens(() => now);
    tokens.set('a', principal, 1_001);
    expect(tokens.get('a')).toEqual(principal);
    now = 1_000_999;
    expect(tokens.get('a')).toEqual(principal);
    now = 1_001_000;
    expect(tokens.get('a')).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('keeps nothing for a token without an expiry', () => {
    const tokens = new VerifiedTokens();
    tokens.set('b', principal, undefined);
    expect(tokens.get('b')).toBeUndefined();
  });
});

describe('remembered access tokens over HTTP', () => {
  let sandbox: RunningSandbox;
  afterAll(() => sandbox?.close());
  const searchWith = (token: string) =>
    fetch(`${sandbox.url}/fhir/Consent?_count=1`, { headers: { authorization: `Bearer ${token}` } });

  it('refuses a token once it has expired, although it was accepted before', async () => {
    sandbox = await testSandbox({ tokenTtlSeconds: 2 });
    const token = await sandboxToken(sandbox, 'cjg');
    expect((await searchWith(token)).status).toBe(200);
    expect((await searchWith(token)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    const late = await searchWith(token);
    expect(late.status).toBe(401);
    expect(JSON.stringify(await late.json())).toContain('expired');
  });

  it('refuses a token with an altered signature while the genuine token is remembered', async () => {
    const token = await sandboxToken(sandbox, 'cjg');
    expect((await searchWith(token)).status).toBe(200);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const forged = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    expect((await searchWith(forged)).status).toBe(401);
    expect((await searchWith(token)).status).toBe(200);
  });
});
