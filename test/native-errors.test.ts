// Native JSON records through POST /mappings/{format}/$to-fhir on the real server: schema errors and value errors
// (BSN 11-test, dates) come in one answer, every issue names the value, in Dutch or English after Accept-Language.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FIXTURES_DIR } from '../src/paths.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { sandboxToken, testSandbox } from './helpers.js';

const form = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'referrals', '01-bakker.json'), 'utf8')) as {
  referralDate: string;
  shoeSize?: number;
  parents: { bsn: string; birthDate: string }[];
  children: { bsn: string; birthDate: string }[];
};

let sandbox: RunningSandbox;
let token: string;
beforeAll(async () => {
  sandbox = await testSandbox();
  token = await sandboxToken(sandbox, 'cjg');
});
afterAll(() => sandbox.close());

async function refused(record: unknown, language: string): Promise<[string, string][]> {
  const res = await fetch(`${sandbox.url}/mappings/cjg-referral/$to-fhir`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'accept-language': language,
    },
    body: JSON.stringify(record),
  });
  expect(res.status).toBe(422);
  const body = (await res.json()) as OperationOutcome;
  return body
    .issue!.map((i): [string, string] => [i.expression![0]!, i.diagnostics!])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

describe('native JSON records with mistakes', () => {
  const broken = () => {
    const f = structuredClone(form);
    f.referralDate = '04-02-2026'; // a schema error: not YYYY-MM-DD
    f.shoeSize = 38; // a schema error: no such field
    f.parents[0]!.bsn = '999999999'; // a value error: fails the 11-test
    f.children[0]!.birthDate = '2015-02-30'; // a value error: no such day
    return f;
  };

  it('lists schema errors and BSN and date errors in one answer, each with its value', async () => {
    expect(await refused(broken(), 'en')).toEqual([
      ['children[0].birthDate', 'children[0].birthDate: 2015-02-30 is not a date'],
      ['parents[0].bsn', 'parents[0].bsn: 999999999 is not a valid BSN (11-test)'],
      ['referralDate', 'referralDate "04-02-2026" is not a date; expected YYYY-MM-DD'],
      ['shoeSize', 'shoeSize is not a field of the cjg-referral format'],
    ]);
  });

  it('answers in Dutch when the caller prefers Dutch', async () => {
    expect(await refused(broken(), 'nl-NL,nl;q=0.9,en;q=0.8')).toEqual([
      ['children[0].birthDate', 'children[0].birthDate: 2015-02-30 is geen bestaande datum'],
      ['parents[0].bsn', 'parents[0].bsn: 999999999 is geen geldig BSN (elfproef)'],
      ['referralDate', 'referralDate "04-02-2026" is geen datum; verwacht jjjj-mm-dd'],
      ['shoeSize', 'shoeSize is geen veld van het formaat cjg-referral'],
    ]);
  });
});
