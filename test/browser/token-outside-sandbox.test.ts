// Outside the sandbox a system client's token does not open the console: no paste field, and a token left in the
// browser's session storage is dropped before anything is asked with it.
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server.js';
import { clientAssertion, requestToken, testConfig } from '../helpers.js';
import { ARTIFACTS, CHROMIUM, FLAGS, HAVE_CHROMIUM } from './chromium.js';

describe.runIf(HAVE_CHROMIUM)('a pasted system token outside the sandbox', () => {
  let gateway: RunningGateway;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    gateway = await startGateway(testConfig({ clientsFile: 'fixtures/clients.json' }));
    const assertion = await clientAssertion(`${gateway.url}/auth/token`, 'sandbox-privacy-officer');
    const res = await requestToken(gateway.url, assertion);
    expect(res.status).toBe(200);
    token = ((await res.json()) as { access_token: string }).access_token;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('does not open the console with a privacy officer client token, pasted or stored', async () => {
    // The token is valid for the API: it is the console that refuses it as a way in.
    const api = await fetch(`${gateway.url}/fhir/AuditEvent?_count=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(api.status).toBe(200);
    const context = await browser.newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam' });
    await context.addInitScript((t) => sessionStorage.setItem('ketenpoort-token', t), token);
    const page = await context.newPage();
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.headers().authorization) asked.push(r.url());
    });
    await page.goto(`${gateway.url}/console/`);
    await expect.poll(() => page.evaluate(() => sessionStorage.getItem('ketenpoort-token'))).toBeNull();
    expect(await page.locator('#token-login').isHidden()).toBe(true);
    expect(await page.locator('#token').isHidden()).toBe(true);
    expect(await page.locator('#work').isHidden()).toBe(true);
    expect(await page.locator('#who').textContent()).toBe('Niet aangemeld.');
    expect(asked).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/console-no-token-outside-sandbox.png`, fullPage: true });
  });
});
