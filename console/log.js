// The audit log view: filters, numbered pages with a total, one event with its exchange's whole course, exports.
import { api, request, showFailure, showStatus } from './api.js';
import { label, labelCodes, moment, t } from './i18n.js';
import { codeList, named, organisationList } from './names.js';

const $ = (sel) => document.querySelector(sel);
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const PAGE = 20;
let offset = 0;
let lastQuery = '';

const destinationOf = (e) =>
  e.agent?.find((a) => a.type?.coding?.[0]?.code === '110152')?.who?.reference ?? '';
const requesterOf = (e) => e.agent?.[0]?.who?.reference ?? '';
const purposeOf = (e) => e.purposeOfEvent?.[0]?.coding?.[0]?.code ?? '';
const details = (e, type) =>
  (e.entity ?? [])
    .flatMap((x) => x.detail ?? [])
    .filter((d) => d.type === type)
    .map((d) => d.valueString);
const taskOf = (e) =>
  e.entity?.find((x) => x.what?.reference?.startsWith('Task/') && !x.role)?.what?.reference ?? '';
const legalBasisOf = (e) =>
  e.entity?.find((x) => x.description?.startsWith('basis: legal exception'))?.what?.identifier?.value ?? '';

/** Fills the filter lists (organisations, purposes, legal bases, operations) with names; values stay codes. */
export function fillFilters() {
  const fill = (name, pairs) => {
    const select = $(`#search-form [name="${name}"]`);
    const chosen = select.value;
    const any = document.createElement('option');
    any.value = '';
    any.textContent = t('any');
    select.replaceChildren(any);
    for (const [value, text] of pairs) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      o.title = value;
      select.append(o);
    }
    select.value = chosen;
  };
  fill('sender', organisationList());
  fill('recipient', organisationList());
  fill(
    'purpose',
    labelCodes('purpose').map((c) => [c, label('purpose', c)]),
  );
  fill('legal-basis', codeList('legal-basis'));
  fill(
    'subtype',
    labelCodes('subtype').map((c) => [c, label('subtype', c)]),
  );
  fill(
    'outcome',
    ['0', '4', '8'].map((c) => [c, label('outcome', c)]),
  );
}

function searchParams() {
  const form = new FormData($('#search-form'));
  const p = new URLSearchParams();
  const value = (name) => String(form.get(name) ?? '').trim();
  if (value('bsn')) p.set('patient:identifier', `${BSN}|${value('bsn')}`);
  for (const name of ['sender', 'recipient', 'outcome', 'purpose', 'legal-basis', 'subtype'])
    if (value(name)) p.set(name, value(name));
  // Whole days in Amsterdam time: "from" at its start, "to" up to and including its end.
  if (value('from')) p.append('date', `ge${value('from')}`);
  if (value('to')) p.append('date', `le${value('to')}`);
  return p;
}

function cell(row, content, className) {
  const td = row.insertCell();
  if (content instanceof Node) td.append(content);
  else td.textContent = content ?? '';
  if (className) td.className = className;
  return td;
}

function pager(total) {
  const nav = $('#pages');
  nav.replaceChildren();
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const current = Math.floor(offset / PAGE) + 1;
  const add = (text, page, aria, disabled = false) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = text;
    b.setAttribute('aria-label', aria);
    b.disabled = disabled;
    if (page === current && text === String(page)) b.setAttribute('aria-current', 'page');
    b.addEventListener('click', () => {
      offset = (page - 1) * PAGE;
      search();
    });
    nav.append(b);
  };
  add(t('previous'), current - 1, t('previous'), current === 1);
  let last = 0;
  for (let n = 1; n <= pages; n++) {
    if (n !== 1 && n !== pages && Math.abs(n - current) > 2) continue;
    if (n - last > 1) nav.append(Object.assign(document.createElement('span'), { textContent: '…' }));
    add(String(n), n, t('pageN', { n }), false);
    last = n;
  }
  add(t('next'), current + 1, t('next'), current >= pages);
  return { pages, current };
}

export async function search(reset = false) {
  if (reset) offset = 0;
  const p = searchParams();
  lastQuery = p.toString();
  p.set('_count', String(PAGE));
  p.set('_offset', String(offset));
  const status = $('#search-status');
  showStatus(status, t('searching'));
  try {
    const bundle = await api(`/fhir/AuditEvent?${p}`);
    const body = $('#results tbody');
    body.replaceChildren();
    for (const { resource: e } of bundle.entry ?? []) {
      const row = body.insertRow();
      cell(row, moment(e.recorded));
      cell(row, named('subtype', e.subtype?.[0]?.code));
      cell(row, named('outcome', e.outcome), `outcome-${e.outcome}`);
      cell(row, named('organisation', requesterOf(e)));
      cell(row, named('organisation', destinationOf(e)));
      cell(row, named('purpose', purposeOf(e)));
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary';
      button.textContent = t('open');
      button.setAttribute('aria-label', `${t('openEvent')} ${moment(e.recorded)}`);
      button.addEventListener('click', () => openEvent(e.id));
      row.insertCell().append(button);
    }
    const shown = bundle.entry?.length ?? 0;
    const { pages, current } = pager(bundle.total);
    showStatus(
      status,
      bundle.total === 0
        ? t('foundNone')
        : t('found', { total: bundle.total, first: offset + 1, last: offset + shown, page: current, pages }),
    );
  } catch (err) {
    showFailure(status, err, () => search());
  }
}

/** The event's facts, every code by its name (the code on hover). */
function facts(e) {
  const dl = $('#event-facts');
  dl.replaceChildren();
  const add = (term, ...values) => {
    const parts = values.flat().filter((v) => v && (!(v instanceof Node) || v.textContent !== '—'));
    if (parts.length === 0) return;
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = t(term);
    parts.forEach((v, i) => dd.append(...(i ? ['; '] : []), v));
    dl.append(dt, dd);
  };
  add('recorded', moment(e.recorded));
  add('operation', named('subtype', e.subtype?.[0]?.code));
  add('outcome', named('outcome', e.outcome));
  add('person', e.entity?.find((x) => x.role?.code === '1')?.what?.identifier?.value);
  add(e.subtype?.[0]?.code === 'exchange' ? 'sender' : 'requester', named('organisation', requesterOf(e)));
  add('recipient', destinationOf(e) && named('organisation', destinationOf(e)));
  add('purpose', purposeOf(e) && named('purpose', purposeOf(e)));
  add('professional', e.agent?.find((a) => a.type?.coding?.[0]?.code === 'PROV')?.who?.identifier?.value);
  const legal = legalBasisOf(e);
  const consent = e.entity?.some((x) => x.description === 'basis: consent');
  add('basis', legal ? named('legal-basis', legal) : consent ? t('basisConsent') : '');
  add('justification', details(e, 'justification'));
  add(
    'reason',
    details(e, 'reason').map((c) => named('decision-reason', c)),
  );
  add(
    'disclosed',
    details(e, 'disclosed').map((c) => named('data-category', c)),
  );
  add(
    'redacted',
    details(e, 'redacted').map((c) => named('data-category', c)),
  );
  add('obligation', details(e, 'obligation'));
}

/** From request to decision to delivery (or failure, cancellation), on one screen. */
async function trail(e) {
  const list = $('#trail');
  const status = $('#trail-status');
  list.replaceChildren();
  const task = taskOf(e);
  const subtype = e.subtype?.[0]?.code;
  if (!task) {
    showStatus(status, subtype === 'exchange' && e.outcome === '4' ? t('trailNone') : '');
    $('#trail-box').hidden = subtype !== 'exchange';
    return;
  }
  $('#trail-box').hidden = false;
  showStatus(status, t('trailLoading'));
  try {
    const bundle = await api(`/fhir/AuditEvent?entity=${encodeURIComponent(task)}&_sort=date&_count=50`);
    const steps = (bundle.entry ?? []).map((x) => x.resource);
    for (const step of steps) {
      const li = document.createElement('li');
      const code = step.subtype?.[0]?.code;
      const what =
        code === 'delivery'
          ? label('step', { 0: 'delivered', 8: 'failed', 4: 'cancelled' }[step.outcome])
          : `${label('subtype', code)}: ${label('outcome', step.outcome)}`;
      const strong = document.createElement('strong');
      strong.textContent = what;
      li.className = `step outcome-${step.outcome}`;
      li.append(moment(step.recorded), ' — ', strong, ' · ', named('organisation', destinationOf(step)));
      if (step.id === e.id) li.setAttribute('aria-current', 'step');
      list.append(li);
    }
    const settled = steps.some((s) => s.subtype?.[0]?.code === 'delivery');
    showStatus(status, settled ? '' : t('trailPending'));
  } catch (err) {
    showFailure(status, err, () => trail(e));
  }
}

export async function openEvent(id) {
  const status = $('#search-status');
  try {
    const e = await api(`/fhir/AuditEvent/${encodeURIComponent(id)}`);
    $('#event').hidden = false;
    $('#event-id').textContent = id;
    $('#event-explanation').textContent = e.outcomeDesc ?? '';
    facts(e);
    $('#event-json').textContent = JSON.stringify(e, null, 2);
    $('#event').scrollIntoView({ block: 'nearest' });
    await trail(e);
  } catch (err) {
    showFailure(status, err, () => openEvent(id));
  }
}

/** Reads NDJSON lines from a streamed answer as they come. */
async function* lines(res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      yield JSON.parse(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  }
  if (buffer.trim()) yield JSON.parse(buffer);
}

export async function verify() {
  const el = $('#verify-result');
  const bar = $('#verify-progress');
  showStatus(el, t('verifyStart'));
  bar.hidden = false;
  bar.removeAttribute('value');
  try {
    const res = await request('/fhir/AuditEvent/$verify', {
      headers: { accept: 'application/x-ndjson' },
      signal: AbortSignal.timeout(600_000),
    });
    let result;
    for await (const line of lines(res)) {
      if (line.resourceType === 'Parameters') result = line;
      else if (line.resourceType === 'OperationOutcome') throw new Error(line.issue?.[0]?.diagnostics);
      else {
        bar.max = line.total || 1;
        bar.value = line.checked;
        el.textContent = t('verifying', line);
      }
    }
    if (!result) throw new Error(t('err5xx', { status: 200 }));
    const get = (name) => result.parameter.find((p) => p.name === name);
    const valid = get('valid').valueBoolean;
    el.className = valid ? 'valid' : 'broken';
    if (valid)
      el.textContent = t('valid', {
        count: get('count').valueInteger,
        checkpoints: get('checkpoints').valueInteger,
      });
    else {
      const part = (n) => get('firstInvalid').part.find((p) => p.name === n);
      el.textContent = t('broken', {
        chain: part('chain').valueInteger,
        seq: part('sequence').valueInteger,
        problem: part('problem').valueString,
      });
    }
  } catch (err) {
    showFailure(el, err, verify);
  } finally {
    bar.hidden = true;
  }
}

/** Downloads an export only when the gateway answered with one; a failure is said, never saved as the file. */
export async function exportLog(format) {
  const status = $('#export-status');
  showStatus(status, t('loading'));
  try {
    const res = await request(`/fhir/AuditEvent/$export?_format=${format}&${lastQuery}`, {
      signal: AbortSignal.timeout(600_000),
    });
    const file = `auditevents.${format}`;
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = file;
    a.click();
    URL.revokeObjectURL(url);
    showStatus(status, t('exportDone', { file }));
  } catch (err) {
    err.message = t('exportFailed', { message: err.message });
    showFailure(status, err, () => exportLog(format));
  }
}
