// The console's calls to the gateway: the session (or a sandbox token), and every failure as a message with what to do.
import { t } from './i18n.js';

let token = sessionStorage.getItem('ketenpoort-token') ?? '';
/** The server-side session of a person signed in with OpenID Connect (GET /console/session). */
export let session = { signedIn: false };

export const hasToken = () => !!token;
export function setToken(value) {
  token = value.trim();
  if (token) sessionStorage.setItem('ketenpoort-token', token);
  else sessionStorage.removeItem('ketenpoort-token');
}

export async function loadSession() {
  session = await fetch('/console/session')
    .then((r) => (r.ok ? r.json() : { signedIn: false }))
    .catch(() => ({ signedIn: false }));
  return session;
}

/** A pasted token (sandbox only) as a Bearer header; otherwise the session cookie, and its CSRF token on changes. */
export function authHeaders(method = 'GET') {
  if (token) return { authorization: `Bearer ${token}` };
  return method === 'GET' || !session.csrfToken ? {} : { 'x-csrf-token': session.csrfToken };
}

/** An error the officer can act on: what happened and what to do (status 0 = no connection). */
export class ApiError extends Error {
  constructor(status, detail) {
    const message =
      status === 0
        ? t('errNetwork')
        : status === 401
          ? t('err401')
          : status === 403
            ? t('err403')
            : status === 404
              ? t('err404')
              : status >= 500
                ? t('err5xx', { status })
                : status === 400 || status === 422
                  ? t('err400', { detail })
                  : t('errOther', { status, detail });
    super(message);
    this.status = status;
  }
}

/** The diagnostics of an OperationOutcome answer, or nothing. */
async function detailOf(res) {
  const text = await res.text().catch(() => '');
  try {
    return (
      JSON.parse(text)
        ?.issue?.map((i) => i.diagnostics)
        .join(' ') ?? ''
    );
  } catch {
    return '';
  }
}

/** fetch with the console's credentials; a failure is an ApiError, never a hanging promise or a silent body. */
export async function request(path, options = {}) {
  let res;
  try {
    res = await fetch(path, {
      ...options,
      headers: { ...authHeaders(options.method), ...options.headers },
      signal: options.signal ?? AbortSignal.timeout(60_000),
    });
  } catch {
    throw new ApiError(0, '');
  }
  if (!res.ok) throw new ApiError(res.status, await detailOf(res));
  return res;
}

/** A FHIR JSON call. */
export async function api(path, options = {}) {
  const res = await request(path, {
    ...options,
    headers: {
      accept: 'application/fhir+json',
      ...(options.body ? { 'content-type': 'application/fhir+json' } : {}),
      ...options.headers,
    },
  });
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

/** Shows a failure in a status element with a button to try again; never a spinner left behind. */
export function showFailure(el, err, retry) {
  el.replaceChildren();
  el.className = 'failure';
  el.setAttribute('role', 'alert');
  const p = document.createElement('span');
  p.textContent = err.message;
  el.append(p);
  if (retry) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = t('retry');
    b.addEventListener('click', retry);
    el.append(' ', b);
  }
}

/** Sets a status line to a plain message (and clears a failure). */
export function showStatus(el, message) {
  el.className = 'muted';
  el.removeAttribute('role');
  el.textContent = message;
}
