// The municipal report as a page in a real browser (Debian's Chromium via playwright-core): what a municipality's
// employee prints. Screenshot in test-artifacts/.
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import { sandboxToken, testSandbox } from '../helpers.js';
import { ARTIFACTS, CHROMIUM, FLAGS, HAVE_CHROMIUM } from './chromium.js';

describe.runIf(HAVE_CHROMIUM)('municipal report page in Chromium', () => {
  let sandbox: RunningSandbox;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    sandbox = await testSandbox();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  it('shows the municipality its own figures in Dutch, with masked cells marked, and prints', async () => {
    const token = await sandboxToken(sandbox, 'municipality');
    const context = await browser.newContext({
      extraHTTPHeaders: { authorization: `Bearer ${token}`, accept: 'text/html' },
    });
    const page = await context.newPage();
    const res = await page.goto(`${sandbox.url}/reports/$municipal?period=2005/2007`);
    expect(res?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toContain('Gemeente Venlo');
    const overview = page.locator('table', { hasText: 'Overzicht trajecten' });
    await expect(overview.locator('tr', { hasText: 'Instroom' }).locator('td').textContent()).resolves.toBe(
      '81',
    );
    await expect(overview.locator('tr', { hasText: 'Uitstroom' }).locator('td').textContent()).resolves.toBe(
      '71',
    );
    await expect(
      overview.locator('tr', { hasText: 'Open bij einde' }).locator('td').textContent(),
    ).resolves.toBe('10');
    // Every table has a caption and column headers; masked cells say so, with an explanation on hover.
    const tables = await page.locator('table').count();
    expect(tables).toBeGreaterThanOrEqual(5);
    expect(await page.locator('table caption').count()).toBe(tables);
    expect(await page.locator('abbr[title^="afgeschermd"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/municipal-report.png`, fullPage: true });
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    await context.close();
  });
});
