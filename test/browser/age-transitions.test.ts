// The consent-renewal page in a real browser (Debian's Chromium): the officer sees who turns 12 or 16 soon.
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import { sweepAgeTransitions } from '../../src/person-index/age-transitions.js';
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

describe.runIf(HAVE_CHROMIUM)('consent renewals in Chromium', () => {
  let sandbox: RunningSandbox;
  let browser: Browser;
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    sandbox = await testSandbox({ ageTransitionPolicy: 'require-renewal' });
    const cjg = await sandboxToken(sandbox, 'cjg');
    const child = await fhir<{ id: string }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Patient',
      patientResource(testBsn(), isoDateYearsAgo(12, -7)),
    );
    const parent = await fhir<{ id: string }>(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/RelatedPerson',
      parentResource(`Patient/${child.body.id}`, testBsn(), true),
    );
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/Consent',
      consentResource(
        `Patient/${child.body.id}`,
        [`RelatedPerson/${parent.body.id}`],
        ['Organization/huisartsen-de-linde'],
        ['CAREMGT'],
      ),
    );
    await sweepAgeTransitions(sandbox.ctx.db, sandbox.ctx.config);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  it('lists the renewal due for a child turning 12 next week as urgent, in Dutch first', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 700 } });
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    await page.goto(`${sandbox.url}/console/age-transitions.html`);
    await page.evaluate((t) => sessionStorage.setItem('ketenpoort-token', t), officer);
    await page.reload();
    await expect
      .poll(() => page.locator('#renewals-summary').textContent())
      .toBe('1 vernieuwing(en) open / renewal(s) open');
    const cells = await page.locator('#renewals tbody tr').first().locator('td').allTextContents();
    expect(cells[3]).toBe('dringend / urgent');
    expect(cells[4]).toMatch(/^Wordt 12 op .*: toestemming nodig van de jongere én de gezaghebbende ouders/);
    await page.screenshot({ path: `${ARTIFACTS}/age-transitions.png`, fullPage: true });
  });
});
