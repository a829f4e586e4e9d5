// docs/integrator-guide.md cannot rot: its shell blocks run in order in one bash session against a fresh sandbox, and
// its TypeScript block runs as written, each answering what the guide says it answers.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { testSandbox } from './helpers.js';

const run = promisify(execFile);
const GUIDE = 'docs/integrator-guide.md';
const SANDBOX_URL = 'http://localhost:8080';

async function blocks(lang: 'sh' | 'ts'): Promise<string[]> {
  const text = await readFile(GUIDE, 'utf8');
  return [...text.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === lang).map((m) => m[2]!);
}

describe('the integrator guide', () => {
  let sandbox: RunningSandbox;
  let outputs: string[];
  beforeAll(async () => {
    sandbox = await testSandbox();
    const shell = await blocks('sh');
    const script = shell
      .map((b, i) => `echo "@@block ${i}"\n${b.replaceAll(SANDBOX_URL, sandbox.url)}`)
      .join('\n');
    const { stdout } = await run('bash', ['-e', '-o', 'pipefail', '-c', script], {
      maxBuffer: 10 * 1024 * 1024,
      timeout: 120_000,
    }).catch((e: { stdout: string; stderr: string; code: number }) => {
      throw new Error(`a command of the guide failed (exit ${e.code}):\n${e.stdout}\n${e.stderr}`);
    });
    outputs = stdout.split(/^@@block \d+\n/m).slice(1);
    expect(outputs).toHaveLength(shell.length);
  }, 180_000);
  afterAll(() => sandbox?.close());

  it('discovers the token endpoint and gets a token with a signed client assertion', () => {
    expect(JSON.parse(outputs[0]!)).toMatchObject({ token_endpoint: `${sandbox.url}/auth/token` });
    expect(outputs[1]).toMatch(/^token: eyJ/);
  });

  it('registers the family and its consent, and the decision permits the exchange it describes', () => {
    const responses = outputs[2]!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string });
    expect(responses.map((r) => r.status)).toEqual(['201', '201', '201', '201']);
    expect(outputs[3]!.trim()).toBe('permit');
    expect(outputs[4]).toContain('"valueCode":"permit"');
    expect(outputs[4]).toContain('consent-permits');
  });

  it('follows the Task until the GP has the care plan', () => {
    expect(outputs[5]).toMatch(/^Task\/[\w-]+: completed$/m);
    expect(Number(outputs[5]!.trim().split('\n').at(-1))).toBeGreaterThanOrEqual(1);
  });

  it('explains a refusal in Dutch with its reason codes', () => {
    expect(outputs[6]).toContain('consent-missing');
    expect(outputs[6]).toMatch(/noemt andere organisaties|niet van toepassing|ontbreekt/);
  });

  it('maps the Dutch Excel export, and lists every mistake of a broken one in Dutch', () => {
    expect(JSON.parse(outputs[7]!)).toEqual({ Bundle: 2, OperationOutcome: 1 });
    expect(outputs[8]!.trim().split('\n')).toEqual([
      'regel 3, parent.bsn: "123456789" is geen geldig BSN; verwacht 9 cijfers die de elfproef doorstaan',
      'regel 3, parent.birthDate: "31-02-1986" is geen bestaande datum; verwacht dd-mm-jjjj (of jjjj-mm-dd)',
    ]);
  });

  it('runs the conformance kit and prints its table', () => {
    expect(outputs[9]).toMatch(/^age-under-12-both-gezag-holders +PASS/m);
    expect(outputs[9]).toMatch(/^token-replayed-assertion +PASS/m);
    expect(outputs[9]).toMatch(/ passed, 0 failed, 0 skipped of /);
  });

  it('decides as of the sandbox clock: at 16 the parents consent given before still counts under the default policy', () => {
    const [set, codes, back] = [
      outputs[10]!.split('\n')[0],
      outputs[10]!,
      outputs[10]!.trim().split('\n').at(-1),
    ];
    expect(JSON.parse(set!)).toMatchObject({ overridden: true });
    expect(codes, codes).toContain('consent-permits');
    expect(JSON.parse(back!)).toMatchObject({ overridden: false });
  });

  it('runs the TypeScript example: SMART discovery with fhir-kit-client, a client assertion, an exchange', async () => {
    const [code] = await blocks('ts');
    // Under node_modules, so that the example's imports resolve as in an integrator's project.
    const dir = path.join('node_modules', '.cache', 'ketenpoort-guide');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `client-${process.pid}.mts`);
    await writeFile(file, code!);
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
        env: { ...process.env, KETENPOORT_URL: sandbox.url },
        timeout: 60_000,
      });
      expect(stdout).toMatch(/^decision: permit, tracked by Task\/[\w-]+$/m);
      expect(stdout).toMatch(/^task status: (accepted|in-progress|completed)$/m);
    } finally {
      await rm(file, { force: true });
    }
  });
});
