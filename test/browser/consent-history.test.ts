// The consent revisions page in a real browser (Debian's Chromium): two versions side by side, the change marked.
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consent } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import {
  consentResource,
  fhir,
  isoDateYearsAgo,
  parentResource,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
} from '../helpers.js';
import { ARTIFACTS, CHROMIUM, FLAGS, HAVE_CHROMIUM } from './chromium.js';

describe.runIf(HAVE_CHROMIUM)('consent revisions in Chromium', () => {
  let sandbox: RunningSandbox;
  let browser: Browser;
  let consentId: string;
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    sandbox = await testSandbox();
    const cjg = await sandboxToken(sandbox, 'cjg');
    const child = await fhir<{ id: string }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), isoDateYearsAgo(10)),
    );
    const mother = await fhir<{ id: string }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(`Patient/${child.body.id}`, testBsn(), true),
    );
    const created = await fhir<Consent>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(
        `Patient/${child.body.id}`,
        [`RelatedPerson/${mother.body.id}`],
        ['Organization/huisartsen-de-linde'],
        ['CAREMGT'],
      ),
    );
    consentId = created.body.id!;
    await fhir(sandbox.url, cjg, 'POST', `/fhir/Consent/${consentId}/$withdraw`, {});
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  it('shows the withdrawal as a changed status between version 1 and 2, in Dutch first', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    await page.goto(`${sandbox.url}/console/consent-history.html`);
    await page.evaluate((t) => sessionStorage.setItem('ketenpoort-token', t), officer);
    await page.goto(`${sandbox.url}/console/consent-history.html?consent=${consentId}`);
    await expect.poll(() => page.locator('#history-summary').textContent()).toBe('2 versie(s) / version(s)');
    const newest = page.locator('section.revision').first();
    expect(await newest.locator('h3').textContent()).toMatch(/^Versie 2 \(.+\) tegenover versie 1/);
    const status = newest.locator('tr.diff-changed', { hasText: 'status' }).first();
    expect(await status.locator('td').allTextContents()).toEqual([
      'status',
      'active',
      'inactive',
      'gewijzigd / changed',
    ]);
    await page.screenshot({ path: `${ARTIFACTS}/consent-history.png`, fullPage: true });
  });

  it('says so when the consent is not there for the reader', async () => {
    const page = await browser.newPage();
    const gp = await sandboxToken(sandbox, 'gp');
    await page.goto(`${sandbox.url}/console/consent-history.html`);
    await page.evaluate((t) => sessionStorage.setItem('ketenpoort-token', t), gp);
    await page.goto(`${sandbox.url}/console/consent-history.html?consent=${consentId}`);
    await expect
      .poll(() => page.locator('#history-status').textContent())
      .toMatch(/^Niet gevonden of geen toegang \/ Not found or no access/);
  });
});
