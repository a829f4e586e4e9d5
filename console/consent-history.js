// The revisions of one consent side by side (GET /fhir/Consent/{id}/_history): per pair of versions, every field that
// changed, was added or was removed. A piece of its own: the console page or consent-history.html mounts it.

/** The leaves of a resource as path → text, without the version bookkeeping in meta. */
export function flatten(value, path = '', out = new Map()) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const next = path ? `${path}.${key}` : key;
      if (next === 'meta.versionId' || next === 'meta.lastUpdated') continue;
      flatten(v, next, out);
    }
  } else if (path) {
    out.set(path, String(value));
  }
  return out;
}

/** The differences between two versions: { path, before, after, change: 'changed' | 'added' | 'removed' }. */
export function diffVersions(older, newer) {
  const a = flatten(older ?? {});
  const b = flatten(newer ?? {});
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths.flatMap((path) => {
    const before = a.get(path);
    const after = b.get(path);
    if (before === after) return [];
    const change = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
    return [{ path, before: before ?? '', after: after ?? '', change }];
  });
}

const CHANGE_NL = {
  changed: 'gewijzigd / changed',
  added: 'toegevoegd / added',
  removed: 'verwijderd / removed',
};

/** A Dutch date and time (Europe/Amsterdam). */
export function dutchMoment(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString('nl-NL', {
    timeZone: 'Europe/Amsterdam',
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Renders a history Bundle (newest first) into a container: one table per pair of consecutive versions. */
export function renderConsentHistory(container, bundle) {
  container.replaceChildren();
  const entries = bundle.entry ?? [];
  const versions = entries.map((e) => ({
    version: e.resource?.meta?.versionId ?? '?',
    when: e.response?.lastModified,
    resource: e.resource,
  }));
  container.append(
    el('p', { class: 'muted', id: 'history-summary' }, `${versions.length} versie(s) / version(s)`),
  );
  for (let i = 0; i < versions.length; i++) {
    const newer = versions[i];
    const older = versions[i + 1];
    const section = el('section', { class: 'revision', 'data-version': newer.version });
    const title = older
      ? `Versie ${newer.version} (${dutchMoment(newer.when)}) tegenover versie ${older.version} / version ${newer.version} against ${older.version}`
      : `Versie ${newer.version} (${dutchMoment(newer.when)}): eerste vastlegging / first recorded`;
    section.append(el('h3', {}, title));
    const rows = older ? diffVersions(older.resource, newer.resource) : diffVersions({}, newer.resource);
    const table = el('table', { class: 'diff' });
    const head = table.createTHead().insertRow();
    for (const h of [
      'Veld / Field',
      older ? `Versie ${older.version}` : '',
      `Versie ${newer.version}`,
      'Wijziging / Change',
    ])
      head.append(el('th', {}, h));
    const body = table.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      tr.className = `diff-${r.change}`;
      tr.insertCell().textContent = r.path;
      tr.insertCell().textContent = r.before;
      tr.insertCell().textContent = r.after;
      tr.insertCell().textContent = CHANGE_NL[r.change];
    }
    if (rows.length === 0) section.append(el('p', { class: 'muted' }, 'Geen verschil / No difference'));
    else section.append(table);
    container.append(section);
  }
}

/** A form for a Consent id and the revisions below it; `fetchJson(path)` is the page's authenticated GET. */
export function mountConsentHistory(root, fetchJson) {
  const form = el('form', { id: 'history-form' });
  const label = el('label', {}, 'Toestemming (Consent-id) / Consent id ');
  const input = el('input', { name: 'consent', required: '', autocomplete: 'off' });
  label.append(input);
  form.append(label, el('button', { type: 'submit' }, 'Toon versies / Show revisions'));
  const status = el('p', { id: 'history-status', role: 'status' });
  const out = el('div', { id: 'history' });
  root.append(form, status, out);
  const show = async (id) => {
    status.textContent = 'Laden… / Loading…';
    try {
      const bundle = await fetchJson(`/fhir/Consent/${encodeURIComponent(id)}/_history`);
      renderConsentHistory(out, bundle);
      status.textContent = '';
    } catch (err) {
      out.replaceChildren();
      status.textContent = `Niet gevonden of geen toegang / Not found or no access: ${err.message}`;
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void show(input.value.trim());
  });
  const preset = new URLSearchParams(window.location.search).get('consent');
  if (preset) {
    input.value = preset;
    void show(preset);
  }
  return { show };
}

/** The console's credentials: a pasted sandbox token (sessionStorage), else the session cookie. */
export async function consoleGet(path) {
  const token = sessionStorage.getItem('ketenpoort-token');
  const res = await fetch(path, {
    headers: { accept: 'application/fhir+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.issue?.map((i) => i.diagnostics).join(' ') || `HTTP ${res.status}`);
  return body;
}

const mountPoint = typeof document !== 'undefined' ? document.getElementById('consent-history') : null;
if (mountPoint) mountConsentHistory(mountPoint, consoleGet);
