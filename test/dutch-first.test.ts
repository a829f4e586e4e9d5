// The answers agency systems and people see most often come in Dutch first, then English ("NL / EN"): a missing or
// invalid token, an unknown resource, a body that is not JSON, a role that may not, a path that does not exist, and
// the internal error.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { internal } from '../src/fhir/outcomes.js';
import { fhir, sandboxToken, testSandbox } from './helpers.js';

const diagnostics = (body: unknown) => (body as OperationOutcome).issue?.[0]?.diagnostics ?? '';

describe('error answers, Dutch first', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  let research: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    [cjg, research] = await Promise.all([sandboxToken(sandbox, 'cjg'), sandboxToken(sandbox, 'research')]);
  });
  afterAll(() => sandbox.close());

  it('says each in Dutch, then in English', async () => {
    const cases: [string, number, string, string][] = [];
    const ask = async (
      label: string,
      token: string | undefined,
      method: string,
      path: string,
      body?: unknown,
    ) => {
      const res = await fhir(sandbox.url, token, method, path, body);
      cases.push([label, res.status, diagnostics(res.body).split(' / ')[0]!, diagnostics(res.body)]);
    };
    await ask('no token', undefined, 'GET', '/fhir/Patient');
    await ask('bad token', 'not-a-token', 'GET', '/fhir/Patient');
    await ask('unknown resource', cjg, 'GET', '/fhir/Patient/does-not-exist');
    await ask('no such route', cjg, 'GET', '/fhir/NoSuchType');
    await ask('role may not', research, 'POST', '/fhir/Consent/x/$withdraw', {});
    const bad = await fetch(`${sandbox.url}/fhir/Patient`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cjg}`, 'content-type': 'application/fhir+json' },
      body: '{"resourceType":',
    });
    cases.push(['not JSON', bad.status, '', diagnostics(await bad.json())]);
    const dutch = /\b(is onbekend|nodig|ongeldig|Geen (FHIR-)?route|mag dit niet|geen geldige JSON)\b/;
    for (const [label, status, , text] of cases) {
      expect([label, status >= 400 && status < 500]).toEqual([label, true]);
      expect([label, dutch.test(text.split(' / ')[0]!), text.includes(' / ')]).toEqual([label, true, true]);
    }
    expect(diagnostics(internal().outcome)).toMatch(/^Interne fout.* \/ Internal error/);
  });
});
