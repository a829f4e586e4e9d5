// The conformance kit: every scenario of fixtures/scenarios passes against the sandbox on both engines, the scenarios
// cover every privacy rule and every error an integrator can cause, and `npm run conformance` prints its table.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
import {
  ConformanceRunner,
  loadScenarios,
  table,
  type ConformanceClient,
} from '../scripts/conformance/runner.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { ENGINES, freshDatabase, testSandbox } from './helpers.js';

const run = promisify(execFile);
const SCENARIOS = path.join('fixtures', 'scenarios');

async function sandboxClients(): Promise<ConformanceClient[]> {
  const registered = JSON.parse(await readFile('fixtures/clients.json', 'utf8')) as {
    clientId: string;
    role: string;
    organization: string;
  }[];
  return Promise.all(
    registered.map(async (c) => ({
      ...c,
      jwk: JSON.parse(await readFile(`fixtures/keys/${c.clientId}.private.jwk.json`, 'utf8')) as JWK,
    })),
  );
}

describe('the conformance scenarios', () => {
  it('are at least 40, uniquely named, and cover every privacy rule and every error an integrator can cause', async () => {
    const scenarios = await loadScenarios(SCENARIOS);
    expect(scenarios.length).toBeGreaterThanOrEqual(40);
    expect(new Set(scenarios.map((s) => s.name)).size).toBe(scenarios.length);
    const covered = new Set(scenarios.flatMap((s) => s.covers));
    const rules = [
      'rule:age-under-12',
      'rule:age-12-15',
      'rule:age-16-plus',
      'rule:adult',
      'rule:age-boundary',
      'rule:all-required-consenters',
      'rule:wrong-consenter',
      'rule:gezag',
      'rule:withdrawal',
      'rule:consent-period',
      'rule:consent-status',
      'rule:consent-actor',
      'rule:consent-purpose',
      'rule:most-specific-provision',
      'rule:legal-exception',
      'rule:justification',
      'rule:criteria',
      'rule:not-in-force',
      'rule:catalogue-only',
      'rule:legal-exception-roles',
      'rule:purpose-limitation',
      'rule:gp-opt-out',
      'rule:research-pseudonymised',
      'rule:research-no-reidentification',
      'rule:minimisation',
      'rule:own-registrations',
      'rule:audit-access',
      'rule:audit-every-decision',
      'rule:fail-closed',
      'rule:delivery-tracking',
      'rule:family-per-person',
      'rule:replay',
      'rule:review',
      'rule:access-report',
      'rule:pull',
    ];
    const errors = [
      'error:no-token',
      'error:invalid-token',
      'error:token-audience',
      'error:token-unsigned',
      'error:token-expired',
      'error:token-replay',
      'error:token-grant-type',
      'error:unparseable-body',
      'error:wrong-resource-type',
      'error:missing-parameter',
      'error:invalid-bsn',
      'error:forbidden-role',
      'error:not-found',
      'error:conflict',
      'error:version-conflict',
      'error:idempotency-conflict',
      'error:native-format',
      'error:justification-missing',
      'error:search-parameter',
      'error:body-too-large',
      'error:rate-limit',
    ];
    expect([...rules, ...errors].filter((c) => !covered.has(c))).toEqual([]);
  });
});

describe.each(ENGINES)('the conformance kit against the sandbox on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
  });
  afterAll(async () => {
    await sandbox?.close();
    await drop?.();
  });

  it('passes every scenario', async () => {
    const runner = new ConformanceRunner(sandbox.url, await sandboxClients(), { sandbox: true });
    const verdicts = await runner.runAll(await loadScenarios(SCENARIOS));
    const notPassed = verdicts.filter((v) => v.result !== 'pass');
    expect(notPassed.length, table(notPassed)).toBe(0);
  }, 300_000);
});

describe('npm run conformance', () => {
  let sandbox: RunningSandbox;
  let dir: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    dir = await mkdtemp(path.join(tmpdir(), 'ketenpoort-conformance-'));
  });
  afterAll(async () => {
    await sandbox?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/conformance.ts', ...args]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const own = ['--client-id', 'sandbox-cjg', '--key', 'fixtures/keys/sandbox-cjg.private.jwk.json'];

  it('prints a pass/fail table and exits 0 when the scenarios pass', async () => {
    const { code, stdout } = await cli(
      '--base-url',
      sandbox.url,
      ...own,
      '--only',
      'token-',
      '--only',
      'age-under-12',
    );
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/^token-wrong-audience +PASS /m);
    expect(stdout).toMatch(/^age-under-12-both-gezag-holders +PASS /m);
    expect(stdout).toMatch(/\d+ passed, 0 failed, 0 skipped of \d+/);
  });

  it('exits 1 and names the step and what differed when a scenario fails', async () => {
    await writeFile(
      path.join(dir, 'wrong.json'),
      JSON.stringify({
        name: 'expects-the-impossible',
        title: 'A call without token that is expected to succeed',
        covers: [],
        steps: [{ as: 'none', path: '/fhir/Patient', expect: { status: 200 } }],
      }),
    );
    const { code, stdout } = await cli('--base-url', sandbox.url, ...own, '--scenarios', dir);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^expects-the-impossible +FAIL +step 1: status 401, expected 200/m);
  });

  it('refuses unknown options and a missing key with exit 2', async () => {
    expect((await cli('--base-url', sandbox.url, ...own, '--fast')).code).toBe(2);
    expect((await cli('--base-url', sandbox.url, '--client-id', 'sandbox-cjg')).code).toBe(2);
  });

  it('skips sandbox-only scenarios and roles without a client against another gateway', async () => {
    const only = (await sandboxClients()).filter((c) => c.role === 'cjg');
    const runner = new ConformanceRunner(sandbox.url, only, { sandbox: false });
    const scenarios = await loadScenarios(SCENARIOS);
    const boundary = await runner.run(scenarios.find((s) => s.name === 'age-boundary-turning-16')!);
    expect(boundary).toMatchObject({ result: 'skip', detail: 'needs the sandbox controls (clock, reset)' });
    const gp = await runner.run(scenarios.find((s) => s.name === 'age-under-12-both-gezag-holders')!);
    expect(gp).toMatchObject({ result: 'skip', detail: 'no client of role gp is configured' });
  });
});
