// The privacy officer console: plain JavaScript modules over the gateway's own FHIR API (no build step).
import { api, hasToken, loadSession, request, session, setToken, showFailure, showStatus } from './api.js';
import { applyLanguage, lang, setLanguage, t } from './i18n.js';
import { exportLog, fillFilters, search, verify } from './log.js';
import { loadNames } from './names.js';
import { loadReviews } from './reviews.js';

const $ = (sel) => document.querySelector(sel);
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
let who = { key: 'notSignedIn', vars: {} };

function setWho(key, vars = {}) {
  who = { key, vars };
  $('#who').textContent = t(key, vars);
}

function languageButton() {
  const b = $('#language');
  b.lang = lang === 'nl' ? 'en' : 'nl';
}

async function openConsole() {
  $('#login').hidden = true;
  $('#work').hidden = false;
  await loadNames();
  fillFilters();
  await search(true);
}

async function signInWithToken(value) {
  setToken(value);
  try {
    await api('/fhir/AuditEvent?_count=1');
    setWho('signedInToken');
    await openConsole();
  } catch (err) {
    setToken('');
    err.message = t('signInFailed', { message: err.message });
    showFailure($('#login-status'), err);
  }
}

/**
 * Shows a page of the gateway (an access or municipal report) inside the console as a full-width article, not a
 * frame: it reads as one page on screen, on a phone and printed. A failure is said, with what to do.
 */
async function showPage(url, target, printId, statusId) {
  const article = $(`#${target}`);
  const status = $(`#${statusId}`);
  showStatus(status, t('loading'));
  article.hidden = true;
  $(`#${printId}`).disabled = true;
  try {
    const res = await request(url, { headers: { accept: 'text/html' } });
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    article.replaceChildren(...[...doc.body.childNodes].map((n) => document.importNode(n, true)));
    article.lang = doc.documentElement.lang || 'nl';
    article.hidden = false;
    $(`#${printId}`).disabled = false;
    showStatus(status, '');
  } catch (err) {
    err.message = t('reportFailed', { message: err.message });
    showFailure(status, err, () => showPage(url, target, printId, statusId));
  }
}

const reportUrl = (bsn) => `/fhir/Patient/$access-report?identifier=${encodeURIComponent(`${BSN}|${bsn}`)}`;
async function showReport(bsn) {
  const link = $('#report-page');
  link.href = reportUrl(bsn);
  // The page on its own opens with the session cookie; a pasted sandbox token does not travel with a link.
  link.hidden = hasToken();
  await showPage(reportUrl(bsn), 'report', 'print-report', 'report-status');
}

function showTab(name) {
  for (const b of document.querySelectorAll('nav button[data-tab]'))
    b.setAttribute('aria-pressed', String(b.dataset.tab === name));
  for (const tab of document.querySelectorAll('.tab')) tab.hidden = tab.id !== `tab-${name}`;
  document.body.dataset.tab = name;
  if (name === 'reviews') loadReviews();
}

$('#language').addEventListener('click', () => {
  setLanguage(lang === 'nl' ? 'en' : 'nl');
  languageButton();
  setWho(who.key, who.vars);
  if (!$('#work').hidden && session.kind !== 'person') {
    fillFilters();
    search();
  }
});
$('#use-token').addEventListener('click', () => signInWithToken($('#token').value));
$('#sandbox-login').addEventListener('click', async () => {
  try {
    const res = await request('/sandbox/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'sandbox-privacy-officer' }),
    });
    await signInWithToken((await res.json()).access_token);
  } catch (err) {
    showFailure($('#login-status'), err);
  }
});
$('#search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  search(true);
});
$('#verify').addEventListener('click', verify);
$('#overdue-only').addEventListener('change', loadReviews);
$('#report-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  showReport(String(new FormData(ev.target).get('bsn')).trim());
});
$('#print-report').addEventListener('click', () => window.print());
$('#municipal-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const query = new URLSearchParams({ period: form.get('period'), municipality: form.get('municipality') });
  showPage(`/reports/$municipal?${query}`, 'municipal', 'print-municipal', 'municipal-status');
});
$('#print-municipal').addEventListener('click', () => window.print());
$('#export-csv').addEventListener('click', () => exportLog('csv'));
$('#export-ndjson').addEventListener('click', () => exportLog('ndjson'));
for (const b of document.querySelectorAll('nav button[data-tab]'))
  b.addEventListener('click', () => showTab(b.dataset.tab));
$('#logout').addEventListener('click', async () => {
  await request('/console/logout', { method: 'POST' }).catch(() => undefined);
  setToken('');
  window.location.reload();
});

/** Who is signed in: an officer opens the console, a person their own access report; nobody: the sign-in. */
async function start() {
  applyLanguage();
  languageButton();
  await loadSession();
  $('#oidc-login').hidden = !session.signInAvailable;
  // A pasted system token opens the console in the sandbox only.
  $('#token-login').hidden = !session.sandbox;
  $('#sandbox-login').hidden = !session.sandbox;
  if (!session.sandbox) setToken('');
  if (session.signedIn) {
    $('#logout').hidden = false;
    if (session.kind === 'officer') {
      setWho('signedInOfficer', { name: session.name });
      showTab('log');
      await openConsole();
      return;
    }
    setWho('signedInPerson', { name: session.name });
    $('#login').hidden = true;
    $('#work').hidden = false;
    for (const b of document.querySelectorAll('nav button[data-tab]')) b.hidden = b.dataset.tab !== 'report';
    showTab('report');
    $('#report-form').elements.bsn.value = session.bsn ?? '';
    await showReport(session.bsn);
    return;
  }
  if (hasToken()) await signInWithToken(sessionStorage.getItem('ketenpoort-token') ?? '');
}
start();
