// Runs conformance scenarios against a running gateway over HTTP: tokens by the real SMART Backend Services flow
// (client assertions signed with each client's key), every step's answer checked, one verdict per scenario.
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { importJWK, SignJWT, type JWK } from 'jose';
import {
  fill,
  Skip,
  valueAt,
  type Assertion,
  type Expect,
  type Scenario,
  type Step,
  type TemplateScope,
} from './scenario.js';

export interface ConformanceClient {
  clientId: string;
  role: string;
  /** `Organization/<id>`: what `{{org:<role>}}` stands for. */
  organization: string;
  jwk: JWK;
}

export interface Verdict {
  scenario: Scenario;
  result: 'pass' | 'fail' | 'skip';
  detail: string;
}

const CLIENT_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export async function loadScenarios(dir: string): Promise<Scenario[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as Scenario),
  );
}

/** A client assertion (RFC 7523) as SMART Backend Services asks for, or a deliberately broken one. */
async function assertion(
  client: ConformanceClient,
  tokenUrl: string,
  a: Assertion,
  jti: string,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: client.clientId, sub: client.clientId, aud: a.audience ?? tokenUrl, jti, iat: now };
  const exp = now + (a.expiresIn ?? 240);
  if (a.alg === 'none') {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims, exp })}.`;
  }
  const alg = client.jwk.kty === 'RSA' ? 'RS384' : 'ES256';
  const key = await importJWK(client.jwk, alg);
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid: client.jwk.kid, typ: 'JWT' })
    .setExpirationTime(exp)
    .sign(key);
}

function tokenForm(assertionJwt: string, grantType = 'client_credentials'): string {
  return new URLSearchParams({
    grant_type: grantType,
    client_assertion_type: CLIENT_ASSERTION,
    client_assertion: assertionJwt,
  }).toString();
}

/** Reason codes of a decision answer: Parameters `reason` parts, or the coded details of OperationOutcome issues. */
function reasonCodes(body: Record<string, unknown>): string[] {
  if (body.resourceType === 'Parameters')
    return (
      (body.parameter as { name: string; part?: { name: string; valueCoding?: { code?: string } }[] }[]) ?? []
    )
      .filter((p) => p.name === 'reason')
      .flatMap((p) => p.part?.filter((q) => q.name === 'code').map((q) => q.valueCoding?.code ?? '') ?? []);
  return ((body.issue as { details?: { coding?: { code?: string }[] } }[]) ?? []).flatMap(
    (i) => i.details?.coding?.map((c) => c.code ?? '') ?? [],
  );
}

function decisionOf(status: number, body: Record<string, unknown>): string | undefined {
  if (body.resourceType === 'Parameters') {
    const p = (body.parameter as { name: string; valueCode?: string; valueString?: string }[]).find(
      (x) => x.name === 'decision',
    );
    return p?.valueCode ?? p?.valueString;
  }
  if (body.resourceType === 'Bundle') {
    const security = (body.meta as { security?: { code?: string }[] } | undefined)?.security ?? [];
    if (status === 200 && security.length) return 'permit';
  }
  if (status === 403 && (body.issue as { code?: string }[] | undefined)?.some((i) => i.code === 'forbidden'))
    return 'deny';
  return undefined;
}

/** What is wrong with an answer, or undefined when it is what the step expects. */
export function check(expect: Expect, status: number, headers: Headers, text: string): string | undefined {
  const wanted = Array.isArray(expect.status) ? expect.status : [expect.status];
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    /* not JSON: only status, headers and text checks apply */
  }
  const brief = () => text.slice(0, 300).replace(/\s+/g, ' ');
  if (!wanted.includes(status)) return `status ${status}, expected ${wanted.join(' or ')}: ${brief()}`;
  if (expect.decision && decisionOf(status, body) !== expect.decision)
    return `decision ${decisionOf(status, body) ?? '(none)'}, expected ${expect.decision}: ${brief()}`;
  const codes = reasonCodes(body);
  for (const r of expect.reasons ?? [])
    if (!codes.includes(r)) return `reason ${r} missing (got ${codes.join(', ') || 'none'})`;
  for (const r of expect.noReasons ?? []) if (codes.includes(r)) return `reason ${r} should not be given`;
  if (
    expect.issueCode &&
    !(body.issue as { code?: string }[] | undefined)?.some((i) => i.code === expect.issueCode)
  )
    return `no issue with code ${expect.issueCode}: ${brief()}`;
  if (expect.oauthError && body.error !== expect.oauthError)
    return `OAuth error ${String(body.error)}, expected ${expect.oauthError}`;
  for (const [name, pattern] of Object.entries(expect.headers ?? {}))
    if (!new RegExp(pattern).test(headers.get(name) ?? ''))
      return `header ${name} is "${headers.get(name) ?? ''}", expected /${pattern}/`;
  for (const s of expect.contains ?? []) if (!text.includes(s)) return `the answer does not hold "${s}"`;
  for (const s of expect.absent ?? [])
    if (text.includes(s)) return `the answer holds "${s}", which it must not`;
  // null expects nothing there at all.
  for (const [p, v] of Object.entries(expect.at ?? {})) {
    const actual = JSON.stringify(valueAt(body, p) ?? null);
    if (actual !== JSON.stringify(v)) return `${p} is ${actual}, expected ${JSON.stringify(v)}`;
  }
  return undefined;
}

export class ConformanceRunner {
  private readonly tokens = new Map<string, string>();
  readonly sandbox: boolean;

  constructor(
    readonly base: string,
    readonly clients: ConformanceClient[],
    opts: {
      sandbox: boolean;
      onAnswer?: (scenario: string, step: number, status: number, text: string) => void;
    },
  ) {
    this.sandbox = opts.sandbox;
    this.onAnswer = opts.onAnswer;
  }

  private readonly onAnswer?: (scenario: string, step: number, status: number, text: string) => void;

  private client(role: string): ConformanceClient {
    const c = this.clients.find((x) => x.role === role);
    if (!c) throw new Skip(`no client of role ${role} is configured`);
    return c;
  }

  private async token(role: string): Promise<string> {
    const cached = this.tokens.get(role);
    if (cached) return cached;
    const res = await fetch(`${this.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenForm(await assertion(this.client(role), `${this.base}/auth/token`, {}, randomUUID())),
    });
    const answer = (await res.json()) as { access_token?: string; error_description?: string };
    if (!answer.access_token)
      throw new Error(`no token for role ${role}: ${answer.error_description ?? res.status}`);
    this.tokens.set(role, answer.access_token);
    return answer.access_token;
  }

  private async request(step: Step, scope: TemplateScope, jtis: string[]): Promise<Response> {
    if (step.token) {
      const a = fill(step.token, scope) as Assertion;
      const client = this.client(a.role ?? step.as ?? '');
      const jti = a.replay && jtis.length ? jtis[jtis.length - 1]! : randomUUID();
      jtis.push(jti);
      return fetch(`${this.base}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': step.contentType ?? 'application/x-www-form-urlencoded' },
        body: tokenForm(await assertion(client, `${this.base}/auth/token`, a, jti), a.grantType),
      });
    }
    const headers: Record<string, string> = { accept: 'application/fhir+json' };
    if (step.authorization) headers.authorization = step.authorization;
    else if (step.as && step.as !== 'none') headers.authorization = `Bearer ${await this.token(step.as)}`;
    let body: string | undefined;
    if (step.body !== undefined) {
      body = JSON.stringify(fill(step.body, scope));
      headers['content-type'] = step.contentType ?? 'application/fhir+json';
    } else if (step.text !== undefined) {
      body = fill(step.text, scope) as string;
      headers['content-type'] = step.contentType ?? 'text/plain';
    } else if (step.oversize !== undefined) {
      const text = 'x'.repeat(step.oversize);
      body = JSON.stringify({
        resourceType: 'Parameters',
        parameter: [{ name: 'padding', valueString: text }],
      });
      headers['content-type'] = step.contentType ?? 'application/fhir+json';
    }
    Object.assign(headers, fill(step.headers ?? {}, scope));
    return fetch(`${this.base}${fill(step.path ?? '/', scope) as string}`, {
      method: step.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
    });
  }

  private async setClock(at: string | null): Promise<void> {
    const res = await fetch(`${this.base}/sandbox/clock`, {
      method: at === null ? 'DELETE' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: at === null ? undefined : JSON.stringify({ now: at }),
    });
    if (!res.ok) throw new Error(`the sandbox clock answered ${res.status}`);
  }

  async run(scenario: Scenario, taken = new Set<string>()): Promise<Verdict> {
    if (scenario.sandboxOnly && !this.sandbox)
      return { scenario, result: 'skip', detail: 'needs the sandbox controls (clock, reset)' };
    const scope: TemplateScope = {
      base: this.base,
      orgs: Object.fromEntries(this.clients.map((c) => [c.role, c.organization])),
      bsns: new Map(),
      taken,
      saved: {},
    };
    const jtis: string[] = [];
    let clockSet = false;
    try {
      for (const [i, step] of scenario.steps.entries()) {
        const where = `step ${i + 1}${step.title ? ` (${step.title})` : ''}`;
        if (step.clock !== undefined) {
          await this.setClock(step.clock === null ? null : (fill(step.clock, scope) as string));
          clockSet = step.clock !== null;
          if (!step.path && !step.token) continue;
        }
        const expect = fill(step.expect, scope) as Expect;
        let res: Response;
        let text: string;
        let problem: string | undefined;
        // A repeated step (a rate limit) passes as soon as one answer is what it expects.
        for (let n = 0; ; n++) {
          res = await this.request(step, scope, jtis);
          text = await res.text();
          this.onAnswer?.(scenario.name, i + 1, res.status, text);
          problem = check(expect, res.status, res.headers, text);
          if (!problem || n + 1 >= (step.repeat ?? 1)) break;
        }
        if (problem)
          return {
            scenario,
            result: 'fail',
            detail: `${where}${step.repeat ? ` (after ${step.repeat} tries)` : ''}: ${problem}`,
          };
        for (const [name, from] of Object.entries(step.save ?? {})) {
          const value = from.startsWith('header:')
            ? res.headers.get(from.slice(7))
            : valueAt(JSON.parse(text) as unknown, from);
          if (value === undefined || value === null)
            return { scenario, result: 'fail', detail: `${where}: nothing at ${from}` };
          scope.saved[name] = String(value);
        }
      }
      return { scenario, result: 'pass', detail: `${scenario.steps.length} step(s)` };
    } catch (err) {
      if (err instanceof Skip) return { scenario, result: 'skip', detail: err.message };
      return { scenario, result: 'fail', detail: (err as Error).message };
    } finally {
      if (clockSet) await this.setClock(null).catch(() => undefined);
    }
  }

  async runAll(scenarios: Scenario[], onVerdict?: (v: Verdict) => void): Promise<Verdict[]> {
    const taken = new Set<string>();
    const verdicts: Verdict[] = [];
    for (const s of scenarios) {
      const v = await this.run(s, taken);
      onVerdict?.(v);
      verdicts.push(v);
    }
    return verdicts;
  }
}

/** The pass/fail table: one line per scenario, then the totals. */
export function table(verdicts: Verdict[]): string {
  const width = Math.max(8, ...verdicts.map((v) => v.scenario.name.length));
  const mark = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' };
  const lines = [`${'scenario'.padEnd(width)}  result  detail`, `${'-'.repeat(width)}  ------  ------`];
  for (const v of verdicts)
    lines.push(`${v.scenario.name.padEnd(width)}  ${mark[v.result].padEnd(6)}  ${v.detail}`);
  const count = (r: Verdict['result']) => verdicts.filter((v) => v.result === r).length;
  lines.push(
    '',
    `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped of ${verdicts.length}`,
  );
  return lines.join('\n');
}
