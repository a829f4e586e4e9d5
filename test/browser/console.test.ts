// The console in a real browser (Debian's Chromium via playwright-core): sign in, search, open an event,
// approve a review, verify the chain, show an access report. Screenshots go to test-artifacts/.
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import {
  carePlanPayload,
  exchangeParameters,
  fhir,
  legalBasisParameters,
  sandboxToken,
  testSandbox,
} from '../helpers.js';
import { ARTIFACTS, CHROMIUM, FLAGS, HAVE_CHROMIUM } from './chromium.js';

const NOAH = '999910036';

describe.runIf(HAVE_CHROMIUM)('privacy officer console in Chromium', () => {
  let sandbox: RunningSandbox;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) =>
    page.screenshot({ path: `${ARTIFACTS}/console-${name}.png`, fullPage: true });

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    sandbox = await testSandbox();
    const cjg = await sandboxToken(sandbox, 'cjg');
    const payload = carePlanPayload(NOAH);
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/huisartsen-de-linde', NOAH, 'CAREMGT', payload),
    );
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters('Organization/school-de-wilgen', NOAH, 'CAREMGT', payload),
    );
    await fhir(
      sandbox.url,
      cjg,
      'POST',
      '/fhir/$exchange',
      exchangeParameters(
        'Organization/gi-jeugdbescherming-zuid',
        NOAH,
        'CAREMGT',
        payload,
        legalBasisParameters(
          'jw-7.3.11-gi-ots',
          'Ondertoezichtstelling sinds maart; GI vraagt het gezinsplan op.',
          { 'court-order': true },
        ),
      ),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  it('signs in as the sandbox officer and finds the exchanges of a child by BSN', async () => {
    await page.goto(`${sandbox.url}/console`);
    await page.getByRole('button', { name: 'Sign in as the sandbox privacy officer' }).click();
    await expect.poll(() => page.locator('#who').textContent()).toBe('Signed in as a privacy officer.');
    await page.getByLabel('BSN').first().fill(NOAH);
    await page.getByLabel('Kind').selectOption('exchange');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/^3 events/);
    expect(await page.locator('#results tbody tr .outcome-denied').count()).toBe(1);
    await shot('search');
  });

  it('opens an event and shows the decision explanation', async () => {
    const denied = page.locator('#results tbody tr', { has: page.locator('.outcome-denied') });
    await denied.getByRole('button', { name: 'Open' }).click();
    await expect
      .poll(() => page.locator('#event-explanation').textContent())
      .toMatch(/Consent of the mother \(gezag\) and the father \(gezag\) is missing; the child is 9\./);
    await shot('event');
  });

  it('verifies the chain', async () => {
    await page.getByRole('button', { name: 'Verify the hash chain' }).click();
    await expect.poll(() => page.locator('#verify-result').textContent()).toMatch(/^Valid: \d+ events/);
  });

  it('approves a legal-exception review with a note', async () => {
    await page.getByRole('button', { name: 'Review queue' }).click();
    await expect.poll(() => page.locator('#reviews-status').textContent()).toBe('1 review(s) waiting.');
    await page.getByLabel('Review note').fill('OTS-beschikking gezien; de verstrekking is proportioneel.');
    await shot('review');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.locator('#reviews-status').textContent()).toMatch(/approved\.$/);
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    const done = await fhir<Bundle>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/Task?code=legal-exception-review&status=completed',
    );
    expect(done.body.total).toBe(1);
  });

  it('shows and prints an access report in Dutch', async () => {
    await page.getByRole('button', { name: 'Access report' }).click();
    await page.locator('#report-form input[name=bsn]').fill(NOAH);
    await page.locator('#report-form').getByRole('button', { name: 'Show report' }).click();
    const frame = page.frameLocator('#report');
    await expect
      .poll(() => frame.locator('h1').textContent())
      .toBe('Wie heeft uw gegevens ingezien of ontvangen?');
    expect(await frame.locator('tbody').textContent()).toContain('Huisartsenpraktijk De Linde');
    await shot('access-report');
  });

  it("shows a municipality's aggregate report with its masked cells, and says why a bad period is refused", async () => {
    await page.getByRole('button', { name: 'Municipal report' }).click();
    await page.locator('#municipal-form input[name=municipality]').fill('0984');
    await page.locator('#municipal-form input[name=period]').fill('2023');
    await page.locator('#municipal-form').getByRole('button', { name: 'Show report' }).click();
    const frame = page.frameLocator('#municipal');
    await expect.poll(() => frame.locator('h1').textContent()).toContain('gemeente 0984');
    const overview = frame.locator('table', { hasText: 'Overzicht trajecten' });
    expect(await overview.locator('tr', { hasText: 'Gezinnen in zorg' }).locator('td').textContent()).toBe(
      '285',
    );
    expect(await frame.locator('abbr[title^="afgeschermd"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#print-municipal').isDisabled()).toBe(false);
    await shot('municipal-report');
    await page.locator('#municipal-form input[name=period]').fill('2023-13');
    await page.locator('#municipal-form').getByRole('button', { name: 'Show report' }).click();
    await expect.poll(() => frame.locator('p').first().textContent()).toContain('HTTP 400');
    expect(await page.locator('#print-municipal').isDisabled()).toBe(true);
  });
});
