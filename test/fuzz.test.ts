// Fuzzing the perimeter: thousands of generated hostile bodies, ids, queries and headers to every route of the
// OpenAPI description, by several roles, on both engines. No answer is a 5xx, every refusal is an OperationOutcome
// (OAuth's error form on the token endpoint), and refused requests leave every table as it was.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { ENGINES, freshDatabase, sandboxToken, testSandbox } from './helpers.js';
import { regressionCases, requestArb, type HostileRequest, type Route } from './fuzz-input.js';
import { rowCounts, tablesOf } from './row-counts.js';

/** Generated requests per engine: with two engines together more than 10,000. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 5_200);
const BATCH = 40;
const PARALLEL = 8;
const ROLES = ['cjg', 'school', 'research', 'youth-care', 'privacy-officer', 'admin', 'municipality'];

interface Answer {
  request: HostileRequest;
  status: number;
  body: string;
}

describe.each(ENGINES)('fuzzing every route on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let tables: string[];
  let routes: Route[];
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const send = async (request: HostileRequest): Promise<Answer> => {
    const token = tokens[request.role];
    const res = await fetch(`${sandbox.url}${request.url}`, {
      method: request.method,
      headers: { ...request.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: request.body,
      // The console's sign-in answers with a redirect to the identity provider: its answer is the redirect itself.
      redirect: 'manual',
    });
    return { request, status: res.status, body: await res.text() };
  };

  /** What is wrong with an answer, if anything: a 5xx, or a refusal that is not an OperationOutcome. */
  const problemOf = (a: Answer): string | undefined => {
    if (a.status >= 500) return `status ${a.status}`;
    if (a.status < 400) return undefined;
    let parsed: { resourceType?: string; error?: string } | undefined;
    try {
      parsed = JSON.parse(a.body) as typeof parsed;
    } catch {
      return `status ${a.status} without a JSON body`;
    }
    if (a.request.url.startsWith('/auth/token')) return parsed?.error ? undefined : 'no OAuth error';
    return parsed?.resourceType === 'OperationOutcome'
      ? undefined
      : `status ${a.status} not an OperationOutcome`;
  };

  /** Runs requests in batches; a batch in which no write was accepted must leave every table as it was. */
  const run = async (requests: HostileRequest[]) => {
    const problems: string[] = [];
    let refused = 0;
    for (let i = 0; i < requests.length; i += BATCH) {
      const batch = requests.slice(i, i + BATCH);
      const before = await rowCounts(sandbox.ctx.db, tables);
      const answers: Answer[] = [];
      for (let j = 0; j < batch.length; j += PARALLEL)
        answers.push(...(await Promise.all(batch.slice(j, j + PARALLEL).map(send))));
      for (const a of answers) {
        if (a.status >= 400) refused++;
        const problem = problemOf(a);
        if (problem)
          problems.push(
            `${problem}: ${a.request.role} ${a.request.method} ${a.request.url.slice(0, 120)} ${a.request.body?.slice(0, 160) ?? ''} → ${a.body.slice(0, 200)}`,
          );
      }
      // Starting a sign-in keeps its pending login (state, nonce, PKCE verifier) on purpose: a write like any other.
      const accepted = answers.some(
        (a) => a.status < 400 && (a.request.method !== 'GET' || a.request.url.startsWith('/console/login')),
      );
      if (!accepted) {
        const after = await rowCounts(sandbox.ctx.db, tables);
        if (JSON.stringify(after) !== JSON.stringify(before))
          problems.push(
            `refused requests changed rows: ${JSON.stringify(before)} → ${JSON.stringify(after)} after ${batch
              .map((r) => `${r.method} ${r.url.slice(0, 60)}`)
              .join('; ')
              .slice(0, 600)}`,
          );
      }
    }
    return { problems, refused };
  };

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    for (const role of ROLES) tokens[role] = await sandboxToken(sandbox, role);
    tokens.forged = `${tokens.cjg!.slice(0, -4)}AAAA`;
    const description = (await (await fetch(`${sandbox.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(description.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method, path })),
    );
    for (const row of await sandbox.ctx.db.query<{ type: string; id: string }>(
      'SELECT DISTINCT ON (type) type, id FROM resources ORDER BY type, id',
    ))
      ids[row.type] = row.id;
    tables = await tablesOf(sandbox.ctx.db);
  });
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  it('refuses every example of the issue with a 400/404/422 OperationOutcome and stores nothing', async () => {
    const cases = regressionCases(ids);
    for (const request of cases) {
      const before = await rowCounts(sandbox.ctx.db, tables);
      const answer = await send(request);
      const what = `${request.method} ${request.url} ${request.body?.slice(0, 100) ?? ''}`;
      expect([400, 404, 422], `${what} → ${answer.body.slice(0, 300)}`).toContain(answer.status);
      expect(problemOf(answer), what).toBeUndefined();
      expect(await rowCounts(sandbox.ctx.db, tables), what).toEqual(before);
    }
  });

  it(
    'answers thousands of generated hostile requests to every route without a 5xx, and refusals leave no trace',
    { timeout: 120_000 },
    async () => {
      expect(routes.length).toBeGreaterThan(50);
      const seed = Number(process.env.FUZZ_SEED ?? 20260219);
      const requests = fc.sample(requestArb(routes, ids, [...ROLES, 'forged', 'none']), {
        numRuns: RUNS,
        seed,
      });
      const covered = new Set(requests.map((r) => `${r.method} ${r.url.split('?')[0]}`));
      const { problems, refused } = await run(requests);
      expect(problems.slice(0, 15), `seed ${seed}: ${problems.length} problems`).toEqual([]);
      // Most of what is generated is hostile and refused; every route was reached.
      expect(refused).toBeGreaterThan(RUNS / 2);
      for (const route of routes)
        expect(
          [...covered].some((c) => c.startsWith(`${route.method.toUpperCase()} ${route.path.split('{')[0]}`)),
          `${route.method} ${route.path}`,
        ).toBe(true);
    },
  );
});
