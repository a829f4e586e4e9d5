// The privacy officer console: plain JavaScript over the gateway's own FHIR API (no build step).
const $ = (sel) => document.querySelector(sel);
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const PAGE = 20;
let token = sessionStorage.getItem('ketenpoort-token') ?? '';
/** The server-side session of a person signed in with OpenID Connect (GET /console/session). */
let session = { signedIn: false };

/** A pasted token (sandbox only) as a Bearer header; otherwise the session cookie, and its CSRF token on changes. */
function authHeaders(method = 'GET') {
  if (token) return { authorization: `Bearer ${token}` };
  return method === 'GET' || !session.csrfToken ? {} : { 'x-csrf-token': session.csrfToken };
}
let offset = 0;
let lastQuery = '';

async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: {
      accept: 'application/fhir+json',
      ...authHeaders(options.method),
      ...(options.body ? { 'content-type': 'application/fhir+json' } : {}),
      ...options.headers,
    },
  });
  const text = await res.text();
  const body = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (!res.ok) {
    const message = body?.issue?.map((i) => i.diagnostics).join(' ') || `HTTP ${res.status}`;
    throw new Error(message);
  }
  return body;
}

function text(el, value) {
  el.textContent = value ?? '';
  return el;
}

function cell(row, value, className) {
  const td = row.insertCell();
  text(td, value);
  if (className) td.className = className;
  return td;
}

async function signIn(newToken) {
  token = newToken.trim();
  try {
    await api('/fhir/AuditEvent?_count=1');
    sessionStorage.setItem('ketenpoort-token', token);
    text($('#who'), 'Signed in as a privacy officer.');
    $('#login').hidden = true;
    $('#work').hidden = false;
    await search();
  } catch (err) {
    text($('#who'), `Sign-in failed: ${err.message}`);
  }
}

function searchParams() {
  const form = new FormData($('#search-form'));
  const p = new URLSearchParams();
  if (form.get('bsn')) p.set('patient:identifier', `${BSN}|${form.get('bsn')}`);
  if (form.get('outcome')) p.set('outcome', form.get('outcome'));
  if (form.get('subtype')) p.set('subtype', form.get('subtype'));
  if (form.get('purpose')) p.set('purpose', form.get('purpose'));
  if (form.get('from')) p.set('date', `ge${form.get('from')}`);
  return p;
}

async function search() {
  const p = searchParams();
  lastQuery = p.toString();
  p.set('_count', String(PAGE));
  p.set('_offset', String(offset));
  text($('#search-status'), 'Searching…');
  try {
    const bundle = await api(`/fhir/AuditEvent?${p}`);
    const body = $('#results tbody');
    body.replaceChildren();
    for (const entry of bundle.entry ?? []) {
      const e = entry.resource;
      const row = body.insertRow();
      cell(row, new Date(e.recorded).toLocaleString('nl-NL'));
      cell(row, e.subtype?.[0]?.code);
      const outcome = { 0: 'success', 4: 'denied', 8: 'error' }[e.outcome] ?? e.outcome;
      cell(row, outcome, `outcome-${outcome}`);
      cell(row, e.agent?.[0]?.who?.reference);
      cell(row, e.agent?.find((a) => a.type?.coding?.[0]?.code === '110152')?.who?.reference ?? '');
      cell(row, e.purposeOfEvent?.[0]?.coding?.[0]?.code ?? '');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary';
      text(button, 'Open');
      button.addEventListener('click', () => openEvent(e.id));
      row.insertCell().append(button);
    }
    text(
      $('#search-status'),
      `${bundle.total} events; showing ${offset + 1}–${offset + (bundle.entry?.length ?? 0)}`,
    );
    $('#prev').disabled = offset === 0;
    $('#next').disabled = offset + PAGE >= bundle.total;
    for (const format of ['ndjson', 'csv']) $(`#export-${format}`).dataset.query = lastQuery;
  } catch (err) {
    text($('#search-status'), `Search failed: ${err.message}`);
  }
}

async function openEvent(id) {
  const e = await api(`/fhir/AuditEvent/${id}`);
  $('#event').hidden = false;
  text($('#event-id'), id);
  text($('#event-explanation'), e.outcomeDesc ?? '');
  const facts = $('#event-facts');
  facts.replaceChildren();
  const add = (term, value) => {
    if (!value) return;
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    text(dt, term);
    text(dd, value);
    facts.append(dt, dd);
  };
  add('Recorded', new Date(e.recorded).toLocaleString('nl-NL'));
  add('Person (BSN)', e.entity?.find((x) => x.role?.code === '1')?.what?.identifier?.value);
  add('Requester', e.agent?.[0]?.who?.reference);
  add('Professional', e.agent?.find((a) => a.type?.coding?.[0]?.code === 'PROV')?.who?.identifier?.value);
  add(
    'Basis',
    e.entity
      ?.filter((x) => x.description?.startsWith('basis'))
      .map((x) => `${x.description} ${x.what?.reference ?? ''}`)
      .join('; '),
  );
  add(
    'Justification',
    e.entity?.flatMap((x) => x.detail ?? []).find((d) => d.type === 'justification')?.valueString,
  );
  for (const kind of ['reason', 'disclosed', 'redacted', 'obligation']) {
    add(
      kind[0].toUpperCase() + kind.slice(1),
      e.entity
        ?.flatMap((x) => x.detail ?? [])
        .filter((d) => d.type === kind)
        .map((d) => d.valueString)
        .join('; '),
    );
  }
  text($('#event-json'), JSON.stringify(e, null, 2));
  $('#event').scrollIntoView({ block: 'nearest' });
}

async function verify() {
  text($('#verify-result'), 'Verifying…');
  const result = await api('/fhir/AuditEvent/$verify');
  const get = (name) => result.parameter.find((p) => p.name === name);
  const valid = get('valid').valueBoolean;
  const el = $('#verify-result');
  el.className = valid ? 'valid' : 'broken';
  if (valid)
    text(
      el,
      `Valid: ${get('count').valueInteger} events, ${get('checkpoints').valueInteger} signed checkpoints checked.`,
    );
  else {
    const part = (n) => get('firstInvalid').part.find((p) => p.name === n);
    text(
      el,
      `BROKEN at chain ${part('chain').valueInteger} event ${part('sequence').valueInteger}: ${part('problem').valueString}`,
    );
  }
}

async function loadReviews() {
  const overdue = $('#overdue-only').checked ? '&overdue=true' : '';
  const bundle = await api(`/fhir/Task?code=legal-exception-review&status=requested${overdue}&_count=100`);
  const list = $('#reviews');
  list.replaceChildren();
  text($('#reviews-status'), `${bundle.total} review(s) waiting${overdue ? ' past their deadline' : ''}.`);
  for (const { resource: task } of bundle.entry ?? []) {
    const li = document.createElement('li');
    const input = (name) => task.input?.find((i) => i.type.text === name);
    const h = document.createElement('h3');
    text(
      h,
      `${input('legalBasis')?.valueCoding?.code} — ${task.requester?.reference} to ${input('recipient')?.valueReference?.reference}`,
    );
    const p = document.createElement('p');
    text(p, `Justification: ${input('justification')?.valueString ?? ''}`);
    const criteria = document.createElement('p');
    criteria.className = 'muted';
    text(
      criteria,
      `Criteria: ${
        task.input
          ?.filter((i) => i.type.text?.startsWith('criterion:'))
          .map((i) => `${i.type.text.slice(10)} = ${i.valueString}`)
          .join(', ') || 'none'
      } · due ${task.restriction?.period?.end?.slice(0, 10) ?? '—'}`,
    );
    const label = document.createElement('label');
    text(label, 'Note ');
    const note = document.createElement('textarea');
    note.rows = 2;
    note.setAttribute('aria-label', 'Review note');
    label.append(note);
    const row = document.createElement('div');
    row.className = 'row';
    for (const decision of ['approved', 'disputed']) {
      const b = document.createElement('button');
      b.type = 'button';
      text(b, decision === 'approved' ? 'Approve' : 'Dispute');
      b.addEventListener('click', async () => {
        try {
          await api(`/fhir/Task/${task.id}`, {
            method: 'PUT',
            body: JSON.stringify({
              ...task,
              status: 'completed',
              output: [
                { type: { text: 'decision' }, valueCode: decision },
                { type: { text: 'note' }, valueString: note.value },
              ],
            }),
          });
          text($('#reviews-status'), `Review ${task.id} ${decision}.`);
          li.remove();
        } catch (err) {
          text($('#reviews-status'), `Not saved: ${err.message}`);
        }
      });
      row.append(b);
    }
    li.append(h, p, criteria, label, row);
    list.append(li);
  }
}

/** Shows a printable page of the gateway (an access or municipal report) in a frame, or why it is not there. */
async function showPage(url, frameId, printId) {
  const res = await fetch(url, { headers: { accept: 'text/html', ...authHeaders() } });
  const frame = $(`#${frameId}`);
  frame.hidden = false;
  let problem = '';
  if (!res.ok) {
    const outcome = await res.json().catch(() => undefined);
    problem = outcome?.issue?.[0]?.diagnostics ?? '';
  }
  const escape = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  frame.srcdoc = res.ok
    ? await res.text()
    : `<p>Report not available (HTTP ${res.status}). ${escape(problem)}</p>`;
  $(`#${printId}`).disabled = !res.ok;
}

const showReport = (bsn) =>
  showPage(
    `/fhir/Patient/$access-report?identifier=${encodeURIComponent(`${BSN}|${bsn}`)}`,
    'report',
    'print-report',
  );

function showTab(name) {
  for (const b of document.querySelectorAll('nav button'))
    b.setAttribute('aria-pressed', String(b.dataset.tab === name));
  for (const t of document.querySelectorAll('.tab')) t.hidden = t.id !== `tab-${name}`;
  if (name === 'reviews') loadReviews();
}

async function exportLog(format, link) {
  const res = await fetch(`/fhir/AuditEvent/$export?_format=${format}&${link.dataset.query ?? ''}`, {
    headers: authHeaders(),
  });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `auditevents.${format}`;
  a.click();
  URL.revokeObjectURL(url);
}

$('#use-token').addEventListener('click', () => signIn($('#token').value));
$('#sandbox-login').addEventListener('click', async () => {
  const res = await fetch('/sandbox/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'sandbox-privacy-officer' }),
  });
  if (res.ok) await signIn((await res.json()).access_token);
});
$('#search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  offset = 0;
  search();
});
$('#prev').addEventListener('click', () => ((offset = Math.max(0, offset - PAGE)), search()));
$('#next').addEventListener('click', () => ((offset += PAGE), search()));
$('#verify').addEventListener('click', verify);
$('#overdue-only').addEventListener('change', loadReviews);
$('#report-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  showReport(new FormData(ev.target).get('bsn'));
});
$('#print-report').addEventListener('click', () => $('#report').contentWindow.print());
$('#municipal-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const query = new URLSearchParams({ period: form.get('period'), municipality: form.get('municipality') });
  showPage(`/reports/$municipal?${query}`, 'municipal', 'print-municipal');
});
$('#print-municipal').addEventListener('click', () => $('#municipal').contentWindow.print());
for (const format of ['ndjson', 'csv']) {
  $(`#export-${format}`).addEventListener('click', (ev) => {
    ev.preventDefault();
    exportLog(format, ev.target);
  });
}
for (const b of document.querySelectorAll('nav button'))
  b.addEventListener('click', () => showTab(b.dataset.tab));

/** Who is signed in: an officer opens the console, a person their own access report; nobody: the sign-in. */
async function start() {
  session = await fetch('/console/session')
    .then((r) => r.json())
    .catch(() => ({ signedIn: false }));
  $('#oidc-login').hidden = !session.signInAvailable;
  // A pasted system token opens the console in the sandbox only.
  $('#token-login').hidden = !session.sandbox;
  $('#sandbox-login').hidden = !session.sandbox;
  if (!session.sandbox) token = '';
  if (session.signedIn) {
    $('#logout').hidden = false;
    $('#login').hidden = true;
    $('#work').hidden = false;
    if (session.kind === 'officer') {
      text($('#who'), `Aangemeld als ${session.name} (functionaris gegevensbescherming)`);
      await search();
      return;
    }
    text($('#who'), `Aangemeld als ${session.name}`);
    for (const b of document.querySelectorAll('nav button')) b.hidden = b.dataset.tab !== 'report';
    showTab('report');
    $('#report-form').elements.bsn.value = session.bsn ?? '';
    await showReport(session.bsn);
    return;
  }
  if (token) signIn(token);
}
$('#logout').addEventListener('click', async () => {
  await fetch('/console/logout', { method: 'POST', headers: authHeaders('POST') });
  sessionStorage.removeItem('ketenpoort-token');
  window.location.reload();
});
start();
