// The conformance scenario format (fixtures/scenarios/*.json) and its templates: fresh test BSNs, dates relative to
// today, the organisations of the configured clients, and values saved by earlier steps.
import { randomUUID } from 'node:crypto';

/** A scenario that cannot run here (no client of a role it needs, no sandbox): skipped, not failed. */
export class Skip extends Error {}

export interface Expect {
  /** The HTTP status, or any of several. */
  status: number | number[];
  /** permit or deny: from the Parameters `decision`, or deny for a 403 with forbidden issues. */
  decision?: 'permit' | 'deny';
  /** Reason codes that must all be among the answer's (Parameters `reason` parts or issue details). */
  reasons?: string[];
  /** Reason codes that must not be among them. */
  noReasons?: string[];
  /** An OperationOutcome issue code that must be present (invalid, forbidden, not-found, …). */
  issueCode?: string;
  /** The `error` of an OAuth error answer (invalid_client, invalid_request, …). */
  oauthError?: string;
  /** Response headers (lower-case names) and a regular expression each must match. */
  headers?: Record<string, string>;
  /** Text the response body must hold / must not hold (templated: a BSN that must not reach research). */
  contains?: string[];
  absent?: string[];
  /** Values at paths of the JSON body (`entry[0].resource.id`, `parameter[name=decision].valueCode`, `total`); null: nothing there. */
  at?: Record<string, unknown>;
}

export interface Assertion {
  /** The role whose client signs; the step's `as` when absent. */
  role?: string;
  audience?: string;
  alg?: 'none';
  /** Seconds until expiry; negative for an assertion that has expired. */
  expiresIn?: number;
  /** Reuse the jti of this scenario's previous assertion. */
  replay?: boolean;
  grantType?: string;
}

export interface Step {
  title?: string;
  /** The role whose client calls (a token of its own); `none` sends no token. */
  as?: string;
  /** A literal Authorization header value instead (for broken tokens). */
  authorization?: string;
  method?: string;
  path?: string;
  body?: unknown;
  text?: string;
  /** A Parameters body padded to this many characters (for the body limit). */
  oversize?: number;
  contentType?: string;
  headers?: Record<string, string>;
  /** POST /auth/token with a client assertion the runner builds (and may break). */
  token?: Assertion;
  /** Send the step up to this many times, until an answer is what it expects (a rate limit). */
  repeat?: number;
  /** Sandbox only: set the decision clock (`null` sets it back). */
  clock?: string | null;
  expect: Expect;
  /** Values to keep for later steps: name → body path, or `header:<name>`. */
  save?: Record<string, string>;
}

export interface Scenario {
  name: string;
  title: string;
  /** The privacy rules and integrator errors it covers (rule:…, error:…). */
  covers: string[];
  /** Needs the sandbox controls (clock override, reset). */
  sandboxOnly?: boolean;
  steps: Step[];
}

/** A valid BSN (11-test) in the 9999xxxxx test range, never one of `taken`. */
export function freshBsn(taken: Set<string>): string {
  for (;;) {
    const candidate = `9999${String(Math.floor(Math.random() * 100000)).padStart(5, '0')}`;
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(candidate[i]);
    if ((sum - Number(candidate[8])) % 11 === 0 && !taken.has(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
}

/** `-12y+3d`, `+10d`, `-1m`: today (UTC calendar) moved by years, months and days, as YYYY-MM-DD. */
export function relativeDate(spec: string, today = new Date()): string {
  const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  for (const [, sign, n, unit] of spec.matchAll(/([+-])(\d+)([ymd])/g)) {
    const k = (sign === '-' ? -1 : 1) * Number(n);
    if (unit === 'y') d.setUTCFullYear(d.getUTCFullYear() + k);
    if (unit === 'm') d.setUTCMonth(d.getUTCMonth() + k);
    if (unit === 'd') d.setUTCDate(d.getUTCDate() + k);
  }
  return d.toISOString().slice(0, 10);
}

export interface TemplateScope {
  base: string;
  orgs: Record<string, string>;
  bsns: Map<string, string>;
  taken: Set<string>;
  saved: Record<string, string>;
}

/**
 * Fills `{{bsn:child}}`, `{{date:-12y}}`, `{{org:gp}}` (`Organization/<id>`), `{{orgid:gp}}` (`<id>`),
 * `{{saved:task}}`, `{{base}}` and `{{uuid}}` in a value.
 */
export function fill(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string')
    return value.replace(/\{\{(\w+)(?::([^}]*))?\}\}/g, (_m, kind: string, arg = '') => {
      switch (kind) {
        case 'bsn': {
          if (!scope.bsns.has(arg)) scope.bsns.set(arg, freshBsn(scope.taken));
          return scope.bsns.get(arg)!;
        }
        case 'date':
          return relativeDate(arg);
        case 'org':
        case 'orgid': {
          const org = scope.orgs[arg];
          if (!org) throw new Skip(`no client of role ${arg} is configured`);
          return kind === 'org' ? org : org.replace(/^Organization\//, '');
        }
        case 'saved': {
          const saved = scope.saved[arg];
          if (saved === undefined) throw new Error(`no value ${arg} was saved by an earlier step`);
          return saved;
        }
        case 'base':
          return scope.base;
        case 'uuid':
          return randomUUID();
        default:
          throw new Error(`unknown template {{${kind}}}`);
      }
    });
  if (Array.isArray(value)) return value.map((v) => fill(v, scope));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, scope)]));
  return value;
}

/** The value at a path: `a.b[0].c`, `parameter[name=decision].valueCode`. */
export function valueAt(body: unknown, path: string): unknown {
  let current: unknown = body;
  for (const [, key, index, field, wanted] of path.matchAll(/\.?([^.[\]]+)|\[(\d+)\]|\[(\w+)=([^\]]*)\]/g)) {
    if (current === undefined || current === null) return undefined;
    if (key !== undefined) current = (current as Record<string, unknown>)[key];
    else if (index !== undefined) current = (current as unknown[])[Number(index)];
    else current = (current as Record<string, unknown>[]).find?.((item) => String(item?.[field!]) === wanted);
  }
  return current;
}
