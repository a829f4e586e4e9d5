// The privacy officer console in Chromium (nl-NL, Europe/Amsterdam), answering in Dutch the questions of daily
// oversight: who received data about this child last month, on what basis, and was it delivered; which
// legal-exception uses await review, oldest first; is the log intact. Screenshots go to test-artifacts/.
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@medplum/fhirtypes';
import { buildAuditEvent, type AuditInput } from '../../src/audit/audit-event.js';
import { appendAudits } from '../../src/audit/log.js';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import {
  carePlanPayload,
  exchangeParameters,
  fhir,
  legalBasisParameters,
  sandboxToken,
  testSandbox,
} from '../helpers.js';
import { axeViolations } from './axe.js';
import { ARTIFACTS, CHROMIUM, FLAGS, HAVE_CHROMIUM } from './chromium.js';

const NOAH = '999910036';
const LEGAL_BASIS = 'https://ketenpoort.nl/fhir/CodeSystem/legal-basis';
const PURPOSE = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** The first and last day of last month, and its 15th at 10:00 in Amsterdam, as the officer types them. */
function lastMonth(now = new Date()) {
  const [y, m] = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Amsterdam' })
    .format(now)
    .split('-')
    .map(Number) as [number, number];
  const year = m === 1 ? y - 1 : y;
  const month = m === 1 ? 12 : m - 1;
  const pad = (n: number) => String(n).padStart(2, '0');
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return {
    from: `${year}-${pad(month)}-01`,
    to: `${year}-${pad(month)}-${last}`,
    at: (minute: number) => new Date(`${year}-${pad(month)}-15T09:${pad(minute)}:00Z`),
  };
}

/** Last month's exchanges about Noah: one under a legal exception (delivered), one on consent (delivery failed). */
function lastMonthsExchanges(): AuditInput[] {
  const { at } = lastMonth();
  const cjg = { org: 'Organization/cjg-venlo', clientId: 'sandbox-cjg' };
  const delivery = { org: 'Organization/cjg-venlo', clientId: 'ketenpoort-delivery' };
  const about = { patient: { bsn: NOAH }, purpose: { system: PURPOSE, code: 'CAREMGT' } };
  return [
    {
      ...about,
      subtype: 'exchange',
      outcome: 'success',
      description: 'Legal basis jw-7.3.11-gi-ots permits this exchange; justification recorded.',
      requester: cjg,
      recipientOrg: 'Organization/gi-jeugdbescherming-zuid',
      legalBasis: { system: LEGAL_BASIS, code: 'jw-7.3.11-gi-ots' },
      justification: 'Ondertoezichtstelling; de GI vraagt het gezinsplan op.',
      entities: [{ reference: 'Task/last-month-gi' }],
      details: { reason: 'legal-basis-permits', disclosed: ['care-plan'] },
      recorded: at(0),
    },
    {
      ...about,
      subtype: 'delivery',
      outcome: 'success',
      description: 'Delivered to Organization/gi-jeugdbescherming-zuid after 1 attempt(s)',
      requester: delivery,
      recipientOrg: 'Organization/gi-jeugdbescherming-zuid',
      entities: [{ reference: 'Task/last-month-gi' }],
      recorded: at(1),
    },
    {
      ...about,
      subtype: 'exchange',
      outcome: 'success',
      description: 'Consent permits Organization/huisartsen-de-linde to receive data for purpose CAREMGT.',
      requester: cjg,
      recipientOrg: 'Organization/huisartsen-de-linde',
      consents: ['Consent/last-month'],
      entities: [{ reference: 'Task/last-month-gp' }],
      details: { reason: 'consent-permits' },
      recorded: at(10),
    },
    {
      ...about,
      subtype: 'delivery',
      outcome: 'error',
      description: 'Delivery to Organization/huisartsen-de-linde failed: deadline passed',
      requester: delivery,
      recipientOrg: 'Organization/huisartsen-de-linde',
      entities: [{ reference: 'Task/last-month-gp' }],
      recorded: at(40),
    },
  ];
}

describe.runIf(HAVE_CHROMIUM)('privacy officer console in Chromium, in Dutch', () => {
  let sandbox: RunningSandbox;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) =>
    page.screenshot({ path: `${ARTIFACTS}/console-${name}.png`, fullPage: true });
  const text = async (sel: string) => (await page.locator(sel).textContent()) ?? '';

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    sandbox = await testSandbox();
    const cjg = await sandboxToken(sandbox, 'cjg');
    const payload = carePlanPayload(NOAH);
    const send = (to: string, basis?: ReturnType<typeof legalBasisParameters>) =>
      fhir(
        sandbox.url,
        cjg,
        'POST',
        '/fhir/$exchange',
        exchangeParameters(to, NOAH, 'CAREMGT', payload, basis),
      );
    await send('Organization/huisartsen-de-linde');
    await send('Organization/school-de-wilgen'); // denied: the parents' consent is missing
    const ots = () =>
      legalBasisParameters(
        'jw-7.3.11-gi-ots',
        'Ondertoezichtstelling sinds maart; GI vraagt het gezinsplan op.',
        {
          'court-order': true,
        },
      );
    await send('Organization/gi-jeugdbescherming-zuid', ots());
    await send('Organization/gi-jeugdbescherming-zuid', ots());
    // The later review is overdue already: the queue puts it first.
    const officer = await sandboxToken(sandbox, 'privacy-officer');
    const reviews = await fhir<{ entry: { resource: Task }[] }>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/Task?code=legal-exception-review&_sort=_lastUpdated',
    );
    const later = reviews.body.entry[1]!.resource.id!;
    await sandbox.ctx.db.query(
      `UPDATE resources SET content = jsonb_set(content, '{restriction,period,end}', '"2026-01-05T09:00:00.000Z"')
       WHERE type = 'Task' AND id = $1`,
      [later],
    );
    await sandbox.ctx.db.transaction((tx) =>
      appendAudits(
        tx,
        lastMonthsExchanges().map((input) => buildAuditEvent(input)),
      ),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const context = await browser.newContext({
      locale: 'nl-NL',
      timezoneId: 'Europe/Amsterdam',
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    await page.goto(`${sandbox.url}/console/`);
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  it('signs the sandbox officer in with the sandbox shortcut, in Dutch', async () => {
    await page.getByRole('button', { name: 'Aanmelden als sandbox-functionaris' }).click();
    await expect.poll(() => text('#who')).toMatch(/^Aangemeld als functionaris gegevensbescherming/);
    await expect.poll(() => text('#search-status')).toMatch(/gebeurtenissen/);
  });

  it('answers in Dutch: who received data about this child last month, on what basis, and was it delivered?', async () => {
    const { from, to } = lastMonth();
    await page.getByLabel('Van (datum)').fill(from);
    await page.getByLabel('Tot en met (datum)').fill(to);
    await page.getByLabel('BSN').first().fill(NOAH);
    await page.getByLabel('Handeling', { exact: true }).selectOption({ label: 'uitwisseling' });
    await page.getByRole('button', { name: 'Zoeken', exact: true }).click();
    await expect.poll(() => text('#search-status')).toMatch(/^2 gebeurtenissen; 1–2 getoond/);
    const rows = page.locator('#results tbody tr');
    expect(await rows.allTextContents()).toEqual([
      expect.stringContaining('Huisartsenpraktijk De Linde'),
      expect.stringContaining('Jeugdbescherming'),
    ]);
    // Codes are named; the code itself is on hover.
    expect(await rows.first().locator('[data-code="CAREMGT"]').getAttribute('title')).toBe('CAREMGT');
    expect(await rows.first().textContent()).toContain('zorgcoördinatie');
    await shot('last-month');

    await rows.nth(1).getByRole('button').click();
    await expect.poll(() => text('#event-facts')).toContain('Grondslag');
    const facts = await text('#event-facts');
    expect(facts).toContain('GI met OTS of voogdij');
    expect(facts).toContain('Ontvanger');
    expect(await page.locator('#event-facts [data-code="jw-7.3.11-gi-ots"]').count()).toBe(1);
    await expect.poll(() => text('#trail')).toMatch(/uitwisseling: toegestaan.*geleverd/s);
    await shot('last-month-delivered');

    await rows.first().getByRole('button').click();
    await expect.poll(() => text('#trail')).toMatch(/levering mislukt/);
    expect(await text('#event-facts')).toContain('toestemming');
    await shot('last-month-failed');
  });

  it('shows a denied exchange with its recipient, purpose and reason by name', async () => {
    await page.getByLabel('Van (datum)').fill('');
    await page.getByLabel('Tot en met (datum)').fill('');
    await page.getByLabel('Uitkomst', { exact: true }).selectOption({ label: 'geweigerd' });
    await page.getByRole('button', { name: 'Zoeken', exact: true }).click();
    await expect.poll(() => text('#search-status')).toMatch(/^1 gebeurtenissen/);
    await page.locator('#results tbody tr').first().getByRole('button').click();
    // The facts of the event opened before stay until the new ones are drawn: wait for this event's recipient.
    await expect.poll(() => text('#event-facts')).toContain('Basisschool De Wilgen');
    const facts = await text('#event-facts');
    expect(facts).toContain('Reden');
    expect(facts).toContain('zorgcoördinatie');
    expect(facts).toContain('Geen toestemming dekt deze ontvanger en dit doel.');
    expect(await page.locator('#event-facts [data-code="consent-missing"]').count()).toBe(1);
    await expect.poll(() => text('#trail-status')).toBe('Geweigerd bij het besluit: er is niets verstuurd.');
    await shot('denied');
    await page.getByLabel('Uitkomst', { exact: true }).selectOption('');
    await page.getByLabel('Handeling', { exact: true }).selectOption('');
    await page.getByLabel('BSN').first().fill('');
  });

  it('pages through the whole log with numbered pages and a total', async () => {
    await page.getByRole('button', { name: 'Zoeken', exact: true }).click();
    await expect
      .poll(() => text('#search-status'))
      .toMatch(/^\d+ gebeurtenissen; 1–20 getoond \(pagina 1 van \d+\)/);
    await page.getByRole('button', { name: 'Pagina 2', exact: true }).click();
    await expect.poll(() => text('#search-status')).toMatch(/; 21–\d+ getoond \(pagina 2 van/);
    expect(
      await page.getByRole('button', { name: 'Pagina 2', exact: true }).getAttribute('aria-current'),
    ).toBe('page');
    expect(await axeViolations(page)).toEqual([]);
    await shot('paging');
  });

  it('answers in Dutch: which legal-exception uses await review, oldest first? — and asks before approving', async () => {
    await page.getByRole('button', { name: 'Te beoordelen' }).click();
    await expect
      .poll(() => text('#reviews-status'))
      .toBe('2 beoordeling(en) wachten, de oudste termijn eerst.');
    const cards = page.locator('#reviews li');
    expect(await cards.first().textContent()).toContain('te laat');
    expect(await cards.nth(1).textContent()).not.toContain('te laat');
    const first = await cards.first().textContent();
    expect(first).toContain('Noah');
    expect(first).toContain(`BSN ${NOAH}`);
    expect(first).toContain('Ondertoezichtstelling sinds maart');
    expect(first).toContain('Jeugdbescherming');
    expect(first).toContain('5 januari 2026');
    expect(await axeViolations(page)).toEqual([]);
    await shot('reviews');

    await cards
      .first()
      .getByLabel('Notitie')
      .fill('OTS-beschikking gezien; de verstrekking is proportioneel.');
    await cards.first().getByRole('button', { name: 'Goedkeuren' }).click();
    await expect.poll(() => page.locator('#confirm').isVisible()).toBe(true);
    expect(await text('#confirm-text')).toMatch(/Noah .*\(999910036\).*goedkeuren/);
    await shot('review-confirm');
    await page.locator('#confirm').getByRole('button', { name: 'Annuleren' }).click();
    expect(await cards.count()).toBe(2);
    await cards.first().getByRole('button', { name: 'Goedkeuren' }).click();
    await page.locator('#confirm').getByRole('button', { name: 'Goedkeuren' }).click();
    await expect.poll(() => text('#reviews-status')).toBe('Beoordeling opgeslagen: goedgekeurd.');
    expect(await cards.count()).toBe(1);

    await cards.first().getByRole('button', { name: 'Uitwisseling openen in het logboek' }).click();
    await expect.poll(() => text('#trail')).toMatch(/uitwisseling: toegestaan/);
  });

  it('answers in Dutch: is the log intact?', async () => {
    await page.getByRole('button', { name: 'Logboek', exact: true }).click();
    await page.getByRole('button', { name: 'Hashketen controleren' }).click();
    await expect
      .poll(() => text('#verify-result'))
      .toMatch(/^Intact: \d+ gebeurtenissen en \d+ ondertekende controlepunten gecontroleerd\.$/);
    expect(await page.locator('#verify-progress').isHidden()).toBe(true);
    await shot('verified');
  });

  it('says what failed and what to do when the gateway fails, never an endless spinner or an error saved as a file', async () => {
    await page.route('**/fhir/AuditEvent/$verify', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/fhir+json',
        body: '{"resourceType":"OperationOutcome"}',
      }),
    );
    await page.getByRole('button', { name: 'Hashketen controleren' }).click();
    await expect
      .poll(() => text('#verify-result'))
      .toMatch(/HTTP 503\).*Probeer het over een paar minuten opnieuw/);
    expect(await page.locator('#verify-result').getAttribute('role')).toBe('alert');
    expect(
      await page.locator('#verify-result').getByRole('button', { name: 'Opnieuw proberen' }).count(),
    ).toBe(1);
    await page.unroute('**/fhir/AuditEvent/$verify');

    await page.route('**/fhir/AuditEvent/$export*', (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/fhir+json',
        body: '{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login","diagnostics":"token expired"}]}',
      }),
    );
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.getByRole('button', { name: 'Exporteren als CSV' }).click();
    await expect
      .poll(() => text('#export-status'))
      .toMatch(/^Export mislukt: Uw sessie is verlopen.*Er is geen bestand opgeslagen\./);
    expect(downloads).toBe(0);
    await page.unroute('**/fhir/AuditEvent/$export*');

    await page.route('**/fhir/Task?*', (route) => route.fulfill({ status: 503, body: '' }));
    await page.getByRole('button', { name: 'Te beoordelen' }).click();
    await expect
      .poll(() => text('#reviews-status'))
      .toMatch(/De gateway kan dit nu niet uitvoeren \(HTTP 503\)/);
    await shot('failure');
    await page.unroute('**/fhir/Task?*');
    await page.locator('#reviews-status').getByRole('button', { name: 'Opnieuw proberen' }).click();
    await expect.poll(() => text('#reviews-status')).toMatch(/beoordeling\(en\) wachten/);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Logboek', exact: true }).click();
    await page.getByRole('button', { name: 'Exporteren als CSV' }).click();
    expect((await download).suggestedFilename()).toBe('auditevents.csv');
  });

  it('shows the access report as a whole page that reads on screen, on a phone and printed, refusals worded as refused', async () => {
    await page.getByRole('button', { name: 'Inzageoverzicht' }).click();
    await page.locator('#report-form input[name=bsn]').fill(NOAH);
    await page.locator('#report-form').getByRole('button', { name: 'Overzicht tonen' }).click();
    const report = page.locator('#report');
    await expect
      .poll(() => report.locator('h1').textContent())
      .toBe('Wie heeft uw gegevens ingezien of ontvangen?');
    const refused = report.locator('tr.refused', { hasText: 'Basisschool De Wilgen' });
    expect(await refused.textContent()).toContain('het verzoek is geweigerd, er is niets verstuurd');
    expect(await refused.textContent()).not.toContain('ontving gegevens');
    const delivered = report.locator('tbody tr', { hasText: 'Huisartsenpraktijk De Linde' }).first();
    expect(await delivered.locator('td[data-label="Van"]').textContent()).toBe('CJG Venlo');
    expect(await axeViolations(page)).toEqual([]);
    await shot('access-report');
    await page.setViewportSize({ width: 390, height: 844 });
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > 391 && (el as HTMLElement).offsetParent !== null)
        .map((el) => `${el.tagName}#${el.id}.${el.className}`),
    );
    expect(wide).toEqual([]);
    await shot('access-report-phone');
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header').isHidden()).toBe(true);
    expect(await report.isVisible()).toBe(true);
    await shot('access-report-print');
    await page.emulateMedia({ media: 'screen' });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("shows a municipality's aggregate report with its masked cells, and says why a bad period is refused", async () => {
    await page.getByRole('button', { name: 'Gemeentelijke rapportage' }).click();
    await page.locator('#municipal-form input[name=municipality]').fill('0984');
    await page.locator('#municipal-form input[name=period]').fill('2023');
    await page.locator('#municipal-form').getByRole('button', { name: 'Overzicht tonen' }).click();
    const report = page.locator('#municipal');
    await expect.poll(() => report.locator('h1').textContent()).toContain('gemeente 0984');
    const overview = report.locator('table', { hasText: 'Overzicht trajecten' });
    expect(await overview.locator('tr', { hasText: 'Gezinnen in zorg' }).locator('td').textContent()).toBe(
      '285',
    );
    expect(await report.locator('abbr[title^="afgeschermd"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#print-municipal').isDisabled()).toBe(false);
    await shot('municipal-report');
    await page.locator('#municipal-form input[name=period]').fill('2023-13');
    await page.locator('#municipal-form').getByRole('button', { name: 'Overzicht tonen' }).click();
    await expect
      .poll(() => text('#municipal-status'))
      .toMatch(/^Overzicht niet beschikbaar: De zoekvraag klopt niet: /);
    expect(await report.isHidden()).toBe(true);
    expect(await page.locator('#print-municipal').isDisabled()).toBe(true);
  });

  it('switches to English and back, dates in Amsterdam time either way', async () => {
    await page.getByRole('button', { name: 'Switch to English' }).click();
    await expect.poll(() => text('header h1')).toBe('Ketenpoort privacy officer console');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByRole('button', { name: 'Audit log', exact: true }).click();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => text('#search-status')).toMatch(/^\d+ events; showing 1–20/);
    await shot('english');
    await page.getByRole('button', { name: 'Schakel naar Nederlands' }).click();
    await expect
      .poll(() => text('header h1'))
      .toBe('Ketenpoort: console voor de functionaris gegevensbescherming');
  });
});
