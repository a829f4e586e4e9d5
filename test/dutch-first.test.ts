// Error answers come in Dutch first, then English ("NL / EN" or "NL (EN)"): the ones seen most over HTTP (a missing or
// invalid token, an unknown resource, a body that is not JSON, a role that may not, a path that does not exist, a
// search or a transaction that is wrong, the internal error), and every literal message the source hands to an
// OperationOutcome builder, read from the source itself.
import path from 'node:path';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { internal } from '../src/fhir/outcomes.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { dutchPart, errorMessages } from './dutch-messages.js';
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
    await ask('unknown resource', cjg, 'GET', '/fhir/Patient/abc123');
    await ask('no such route', cjg, 'GET', '/fhir/NoSuchType');
    await ask('role may not', research, 'POST', '/fhir/Consent/x/$withdraw', {});
    const bad = await fetch(`${sandbox.url}/fhir/Patient`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cjg}`, 'content-type': 'application/fhir+json' },
      body: '{"resourceType":',
    });
    cases.push(['not JSON', bad.status, '', diagnostics(await bad.json())]);
    await ask('unknown search parameter', cjg, 'GET', '/fhir/Patient?colour=blue');
    await ask('search value missing', cjg, 'GET', '/fhir/Patient?identifier=');
    await ask('bad _sort', cjg, 'GET', '/fhir/Task?_sort=status');
    await ask('bad date', cjg, 'GET', '/fhir/Task?_lastUpdated=2026-02-30');
    await ask('not a transaction', cjg, 'POST', '/fhir', { resourceType: 'Bundle', type: 'batch' });
    await ask('required parameter', cjg, 'POST', '/fhir/$consent-decision', {
      resourceType: 'Parameters',
      parameter: [],
    });
    for (const [label, status, , text] of cases) {
      expect([label, status >= 400 && status < 500]).toEqual([label, true]);
      expect([label, text, dutchPart(text) !== undefined, text.includes(' / ')]).toEqual([
        label,
        text,
        true,
        true,
      ]);
    }
    expect(diagnostics(internal().outcome)).toMatch(/^Interne fout.* \/ Internal error/);
  });

  it('puts Dutch first in every literal message of an error answer in the source', () => {
    const messages = errorMessages(path.join(PROJECT_ROOT, 'src'));
    // The walk finds the builders' messages at all (a walk that found none would pass anything).
    expect(messages.length).toBeGreaterThan(120);
    const english = messages
      .filter((m) => dutchPart(m.text) === undefined)
      .map((m) => `${m.file}:${m.line} ${m.text}`);
    expect(english).toEqual([]);
  });

  it('tells a message with Dutch first from one without', () => {
    for (const good of [
      'Parameter "code" is verplicht / Parameter "code" is required',
      'Onderzoek zoekt Tasks niet op persoon (research does not search Tasks by person)',
      'X heeft geen actief FHIR-Endpoint / X has no active FHIR Endpoint',
    ])
      expect([good, dutchPart(good) !== undefined]).toEqual([good, true]);
    for (const bad of [
      'Parameter "code" is required',
      'The source could not be reached; no data are returned',
      'A completed review needs a note (output "note")',
      'Search parameter "X" needs a value / Zoekparameter "X" heeft een waarde nodig',
      'Parameter "code" is verplicht',
    ])
      expect([bad, dutchPart(bad)]).toEqual([bad, undefined]);
  });
});
