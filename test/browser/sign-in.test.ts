// Signing in to the console in Chromium through the sandbox's OpenID provider: the officer gets the log, Emma (14) and
// Lotte (16) their own report and not their brother's, Sanne her children's under 16 and not Lotte's; axe-core checks.
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import {
  fhir,
  isoDateYearsAgo,
  parentResource,
  patientResource,
  sandboxToken,
  testSandbox,
} from '../helpers.js';
import { axeViolations } from './axe.js';
import { ARTIFACTS, CHROMIUM, FLAGS, HAVE_CHROMIUM } from './chromium.js';

const NOAH = '999910036';
const LOTTE = '999910061';

describe.runIf(HAVE_CHROMIUM)('signing in to the console in Chromium', () => {
  let sandbox: RunningSandbox;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    sandbox = await testSandbox();
    const cjg = await sandboxToken(sandbox, 'cjg');
    const lotte = await fhir<{ id: string }>(sandbox.url, cjg, 'POST', '/fhir/Patient', {
      ...patientResource(LOTTE, isoDateYearsAgo(16, 30)),
      name: [{ given: ['Lotte'], family: 'Jansen' }],
    });
    await fhir(sandbox.url, cjg, 'POST', '/fhir/RelatedPerson', {
      ...parentResource(`Patient/${lotte.body.id}`, '999910012', true),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  /** A fresh browser context (no cookies), signed in through the provider's login page. */
  async function signedIn(login: string): Promise<Page> {
    const context = await browser.newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam' });
    const page = await context.newPage();
    await page.goto(`${sandbox.url}/console/`);
    await page.getByRole('link', { name: /Aanmelden bij uw inlogdienst/ }).click();
    await page.getByLabel(/Gebruikersnaam/).fill(login);
    await page.getByLabel(/Wachtwoord/).fill('sandbox');
    await page.getByRole('button', { name: /Aanmelden/ }).click();
    await page.waitForURL(`${sandbox.url}/console/`);
    await expect.poll(() => page.locator('#who').textContent()).toMatch(/Aangemeld als/);
    return page;
  }

  async function reportFor(page: Page, bsn: string): Promise<string> {
    await page.locator('#report-form input[name="bsn"]').fill(bsn);
    await page.locator('#report-form button[type="submit"]').click();
    // The report about this BSN, or the failure said in its place.
    const said = () =>
      page.evaluate(() => {
        const report = document.querySelector('#report') as HTMLElement;
        const status = document.querySelector('#report-status') as HTMLElement;
        if (!report.hidden) return report.textContent ?? '';
        return status.getAttribute('role') === 'alert' ? (status.textContent ?? '') : '';
      });
    await expect.poll(said).toMatch(new RegExp(`BSN ${bsn}|^Overzicht niet beschikbaar`));
    return said();
  }

  it('signs the privacy officer in and shows the audit log, with no accessibility violations', async () => {
    const page = await signedIn('functionaris');
    expect(await page.locator('#who').textContent()).toContain('Fatima Bakker');
    await expect.poll(() => page.locator('#results tbody tr').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-officer.png`, fullPage: true });
    expect(await axeViolations(page)).toEqual([]);
    await page.locator('#logout').click();
    await expect.poll(() => page.locator('#oidc-login').isVisible()).toBe(true);
  });

  it('shows Emma (14) her own report and refuses her brother Noah’s', async () => {
    const page = await signedIn('emma');
    expect(await page.locator('nav button[data-tab="log"]').isHidden()).toBe(true);
    await expect
      .poll(async () => (await page.locator('#report').textContent()) ?? '')
      .toMatch(/Emma|999910048/);
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-young-person.png`, fullPage: true });
    expect(await reportFor(page, NOAH)).toMatch(/^Overzicht niet beschikbaar: U hebt geen toegang/);
  });

  it('shows Lotte (16) her own report and refuses her brother Noah’s', async () => {
    const page = await signedIn('lotte');
    expect(await page.locator('nav button[data-tab="log"]').isHidden()).toBe(true);
    await expect
      .poll(async () => (await page.locator('#report').textContent()) ?? '')
      .toContain(`BSN ${LOTTE}`);
    expect(await reportFor(page, NOAH)).toMatch(/^Overzicht niet beschikbaar: U hebt geen toegang/);
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-sixteen.png`, fullPage: true });
  });

  it('shows Sanne the report of Noah (9) and refuses that of Lotte (16)', async () => {
    const page = await signedIn('sanne');
    expect(await reportFor(page, NOAH)).toMatch(/Wie heeft uw gegevens ingezien of ontvangen\?/);
    // The same report as a page of its own, opened with the session.
    const [own] = await Promise.all([
      page.waitForEvent('popup'),
      page.getByRole('link', { name: 'Openen als pagina' }).click(),
    ]);
    await own.waitForLoadState();
    expect(await own.locator('h1').textContent()).toBe('Wie heeft uw gegevens ingezien of ontvangen?');
    expect(await own.locator('body').textContent()).toContain(`BSN ${NOAH}`);
    await own.close();
    await page.screenshot({ path: `${ARTIFACTS}/sign-in-parent.png`, fullPage: true });
    expect(await reportFor(page, LOTTE)).toMatch(/^Overzicht niet beschikbaar: U hebt geen toegang/);
  });
});
