// People sign in to the console through the sandbox's own OpenID provider: officer, young person and parent each get
// a server-side session (HttpOnly, SameSite=Strict cookie) with exactly their role's rights; CSRF and time-outs hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Database } from '../src/store/database.js';
import {
  ENGINES,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  parentResource,
  patientResource,
  sandboxToken,
  testSandbox,
} from './helpers.js';

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const EMMA = '999910048';
const NOAH = '999910036';
const LOTTE = '999910061';

/** A browser in miniature: a cookie jar, redirects followed by hand so every Set-Cookie is seen. */
class Browser {
  readonly jar = new Map<string, string>();
  readonly setCookies: string[] = [];
  constructor(private readonly base: string) {}
  async go(path: string, init: RequestInit = {}): Promise<Response> {
    let url = new URL(path, this.base).href;
    let req = init;
    for (let hops = 0; hops < 10; hops++) {
      const res = await fetch(url, {
        ...req,
        redirect: 'manual',
        headers: { ...(req.headers as Record<string, string>), cookie: this.cookieHeader() },
      });
      for (const c of res.headers.getSetCookie()) {
        this.setCookies.push(c);
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq);
        const value = pair!.slice(eq + 1);
        if (value === '' || /max-age=0/i.test(c)) this.jar.delete(name);
        else this.jar.set(name, value);
      }
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return res;
      url = new URL(location, url).href;
      req = {};
    }
    throw new Error('too many redirects');
  }
  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  /** Signs in through /console/login and the provider's login form; answers the session as the console sees it. */
  async signIn(login: string, password = 'sandbox') {
    const form = await this.go('/console/login');
    expect(form.status).toBe(200);
    const action = /action="([^"]+)"/.exec(await form.text())![1]!;
    const done = await this.go(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login, password }).toString(),
    });
    return { status: done.status, text: await done.text(), session: await this.session() };
  }
  async session() {
    const res = await this.go('/console/session');
    return (await res.json()) as { signedIn: boolean; kind?: string; name?: string; csrfToken?: string };
  }
  report(bsn: string) {
    return this.go(`/fhir/Patient/$access-report?identifier=${BSN}|${bsn}`, {
      headers: { accept: 'application/fhir+json' },
    });
  }
}

describe.each(ENGINES)('console sign-in with OpenID Connect on %s', (engine) => {
  let sandbox: RunningSandbox;
  let db: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    sandbox = await testSandbox({}, db);
    // Lotte (16) is Sanne's daughter too, registered by the CJG.
    const cjg = await sandboxToken(sandbox, 'cjg');
    const lotte = await fhir<{ id: string }>(sandbox.url, cjg, 'POST', '/fhir/Patient', {
      ...patientResource(LOTTE, isoDateYearsAgo(16, 30)),
      name: [{ given: ['Lotte'], family: 'Jansen' }],
    });
    expect(lotte.status).toBe(201);
    const parent = await fhir(sandbox.url, cjg, 'POST', '/fhir/RelatedPerson', {
      ...parentResource(`Patient/${lotte.body.id}`, '999910012', true),
    });
    expect(parent.status).toBe(201);
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('signs the privacy officer in with a session cookie that is HttpOnly and SameSite=Strict, and the log opens', async () => {
    const browser = new Browser(sandbox.url);
    const { status, session } = await browser.signIn('functionaris');
    expect(status).toBe(200);
    expect(session).toMatchObject({ signedIn: true, kind: 'officer', name: 'Fatima Bakker' });
    const cookie = browser.setCookies.find((c) => c.startsWith('kp_session=') && !/max-age=0/i.test(c))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const log = await browser.go('/fhir/AuditEvent?_count=1', {
      headers: { accept: 'application/fhir+json' },
    });
    expect(log.status).toBe(200);
    // The log names the person who searched it, not a shared system client.
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    const mine = await fhir<{
      entry?: { resource: { agent: { who: { identifier?: { value: string } } }[] } }[];
    }>(sandbox.url, officer, 'GET', '/fhir/AuditEvent?subtype=audit-read&_count=5');
    const clients = mine.body.entry!.map((e) => e.resource.agent[0]!.who.identifier?.value);
    expect(clients).toContain('console:functionaris');
  });

  it("opens the municipal report to the officer's session, as the console's report tab asks for it", async () => {
    const browser = new Browser(sandbox.url);
    expect((await browser.signIn('functionaris')).status).toBe(200);
    const report = await browser.go('/reports/$municipal?period=2023&municipality=0984', {
      headers: { accept: 'application/fhir+json' },
    });
    expect(report.status).toBe(200);
    expect(await report.json()).toMatchObject({ resourceType: 'MeasureReport' });
  });

  it('refuses a wrong password at the provider and opens no session', async () => {
    const browser = new Browser(sandbox.url);
    const { status, session } = await browser.signIn('functionaris', 'wrong');
    expect(status).toBe(401);
    expect(session.signedIn).toBe(false);
  });

  it('lets Emma (14) read her own access report but not her brother Noah’s, and not the audit log', async () => {
    const browser = new Browser(sandbox.url);
    expect((await browser.signIn('emma')).session).toMatchObject({ signedIn: true, kind: 'person' });
    expect((await browser.report(EMMA)).status).toBe(200);
    expect((await browser.report(NOAH)).status).toBe(403);
    expect(
      (await browser.go('/fhir/AuditEvent', { headers: { accept: 'application/fhir+json' } })).status,
    ).toBe(403);
  });

  it('lets Sanne read the reports of her children under 16, not that of Lotte (16)', async () => {
    const browser = new Browser(sandbox.url);
    expect((await browser.signIn('sanne')).session.kind).toBe('person');
    expect((await browser.report(NOAH)).status).toBe(200);
    expect((await browser.report(EMMA)).status).toBe(200);
    expect((await browser.report(LOTTE)).status).toBe(403);
  });

  it('lets Lotte (16) read her own report', async () => {
    const browser = new Browser(sandbox.url);
    await browser.signIn('lotte');
    expect((await browser.report(LOTTE)).status).toBe(200);
  });

  it('refuses a state-changing request and sign-out without the CSRF token, and signs out with it', async () => {
    const browser = new Browser(sandbox.url);
    const { session } = await browser.signIn('functionaris');
    const forged = await browser.go('/fhir/Task/nothing', {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Task', id: 'nothing', status: 'completed', intent: 'order' }),
    });
    expect(forged.status).toBe(403);
    expect(JSON.stringify(await forged.json())).toMatch(/CSRF/);
    expect((await browser.go('/console/logout', { method: 'POST' })).status).toBe(403);
    expect((await browser.session()).signedIn).toBe(true);
    const out = await browser.go('/console/logout', {
      method: 'POST',
      headers: { 'x-csrf-token': session.csrfToken! },
    });
    expect(out.status).toBe(204);
    expect((await browser.session()).signedIn).toBe(false);
    expect((await browser.go('/fhir/AuditEvent')).status).toBe(401);
  });

  it('ends a session that was idle too long, and one past its absolute end', async () => {
    const browser = new Browser(sandbox.url);
    await browser.signIn('functionaris');
    await db.query(
      `UPDATE console_sessions SET last_seen_at = now() - interval '31 minutes' WHERE kind = 'officer'`,
    );
    expect((await browser.session()).signedIn).toBe(false);
    const again = new Browser(sandbox.url);
    await again.signIn('functionaris');
    await db.query(
      `UPDATE console_sessions SET expires_at = now() - interval '1 second' WHERE kind = 'officer'`,
    );
    expect((await again.session()).signedIn).toBe(false);
  });

  it('answers a callback without a sign-in under way with a 400, and stores only hashes of session ids', async () => {
    const res = await fetch(`${sandbox.url}/console/callback?code=x&state=y`);
    expect(res.status).toBe(400);
    const browser = new Browser(sandbox.url);
    await browser.signIn('functionaris');
    const id = browser.jar.get('kp_session')!;
    const rows = await db.query<{ id_hash: string }>('SELECT id_hash FROM console_sessions');
    expect(rows.map((r) => r.id_hash)).not.toContain(id);
  });

  it('sends security headers on every page: a CSP without inline script, no framing, nosniff, no referrer', async () => {
    for (const path of ['/console/', '/console/session', '/fhir/metadata', '/health']) {
      const res = await fetch(`${sandbox.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toMatch(/script-src 'self'(;|$)/);
      expect(csp, path).toMatch(/frame-ancestors 'none'/);
      expect(csp, path).not.toMatch(/upgrade-insecure-requests/);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
  });
});
