// CSV as agency systems export it, through POST /mappings/cjg-referral/$to-fhir on the real server: a Dutch Excel
// export (BOM, `;`, CRLF, d-m-jjjj dates, ja/nee) maps as the comma files do, and a file full of mistakes is answered
// with every mistake at once, each with its row, column, value and what was expected, in Dutch or English.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { FIXTURES_DIR } from '../src/paths.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { sandboxToken, testSandbox } from './helpers.js';

const excel = readFileSync(path.join(FIXTURES_DIR, 'native-exports', 'cjg-referral-excel-nl.csv'), 'utf8');
const comma = (name: string) => readFileSync(path.join(FIXTURES_DIR, 'referrals', `${name}.csv`), 'utf8');

let sandbox: RunningSandbox;
let token: string;
beforeAll(async () => {
  sandbox = await testSandbox();
  token = await sandboxToken(sandbox, 'cjg');
});
afterAll(() => sandbox.close());

async function toFhir(
  csv: string,
  language?: string,
): Promise<{ status: number; body: Bundle & Pick<OperationOutcome, 'issue'> }> {
  const res = await fetch(`${sandbox.url}/mappings/cjg-referral/$to-fhir`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'text/csv; charset=utf-8',
      ...(language ? { 'accept-language': language } : {}),
    },
    body: csv,
  });
  return { status: res.status, body: (await res.json()) as Bundle & Pick<OperationOutcome, 'issue'> };
}

const bundles = (b: Bundle) =>
  b.entry!.filter((e) => e.resource!.resourceType === 'Bundle').map((e) => e.resource);

/** The Excel export with its lines split into fields, to break one cell at a time. */
const lines = excel.replace(/^\uFEFF/, '').split('\r\n');
const header = lines[0]!.split(';');
const col = (name: string) => header.indexOf(name);
function withCell(csv: string[], line: number, column: string, value: string): string[] {
  const copy = [...csv];
  const cells = copy[line - 1]!.split(';');
  cells[col(column)] = value;
  copy[line - 1] = cells.join(';');
  return copy;
}

describe('CSV exports from agency systems', () => {
  it('maps a Dutch Excel export (BOM, semicolons, CRLF, d-m-jjjj dates, ja/nee) to the same Bundles as the comma files', async () => {
    expect(excel.startsWith('\uFEFF')).toBe(true);
    const dutch = await toFhir(excel);
    expect(dutch.status, JSON.stringify(dutch.body)).toBe(200);
    const plain = await toFhir(comma('01-bakker') + comma('03-de-groot').split('\r\n').slice(1).join('\r\n'));
    expect(plain.status).toBe(200);
    expect(bundles(dutch.body)).toEqual(bundles(plain.body));
    expect(bundles(dutch.body)).toHaveLength(2);
  });

  it('reads LF line ends and a file without BOM alike', async () => {
    const res = await toFhir(lines.join('\n'));
    expect(res.status).toBe(200);
  });

  it('answers every mistake of a file at once, with row, column, value and what is expected, in Dutch', async () => {
    let broken = withCell(lines, 3, 'parent.bsn', '123456789');
    broken = withCell(broken, 4, 'parent.birthDate', '31-02-1983');
    broken = withCell(broken, 5, 'child.sex', 'meisje');
    broken = withCell(broken, 5, 'child.courtOrder', 'misschien');
    broken = withCell(broken, 2, 'referralDate', '1-1-2999');
    // A stray comma in a semicolon file is just text; a stray semicolon shifts the row: one problem, not five.
    broken = withCell(broken, 6, 'child.school', 'Basis;school');
    // A stray quote in the middle of a value is an error, never kept silently.
    broken = withCell(broken, 10, 'parent.occupation', 'zegt "ZZP"');
    const res = await toFhir(broken.join('\r\n'), 'nl-NL,nl;q=0.9,en;q=0.5');
    expect(res.status).toBe(422);
    const issues = res.body.issue!.map((i) => [i.expression![0], i.diagnostics]);
    expect(issues).toEqual([
      [
        'row 2.referralDate',
        expect.stringMatching(
          /^regel 2, referralDate: "1-1-2999" ligt in de toekomst; verwacht een datum tot en met \d\d-\d\d-\d{4}$/,
        ),
      ],
      [
        'row 3.parent.bsn',
        'regel 3, parent.bsn: "123456789" is geen geldig BSN; verwacht 9 cijfers die de elfproef doorstaan',
      ],
      [
        'row 4.parent.birthDate',
        'regel 4, parent.birthDate: "31-02-1983" is geen bestaande datum; verwacht dd-mm-jjjj (of jjjj-mm-dd)',
      ],
      [
        'row 5.child.sex',
        expect.stringMatching(/^regel 5, child.sex: "meisje" is geen toegestane code; verwacht een van: /),
      ],
      ['row 5.child.courtOrder', 'regel 5, child.courtOrder: "misschien" is geen ja/nee; verwacht ja of nee'],
      [
        'row 6',
        expect.stringMatching(
          /^regel 6: regel 6 heeft 46 velden, de kopregel 45; staat er een scheidingsteken te veel/,
        ),
      ],
      [
        'row 10.parent.occupation',
        'regel 10, parent.occupation: kolom parent.occupation bevat een aanhalingsteken midden in de waarde ("zegt …"); zet de hele waarde tussen aanhalingstekens en verdubbel het teken ("")',
      ],
    ]);
  });

  it('answers the same mistakes in English when the caller asks for English', async () => {
    const broken = withCell(lines, 3, 'parent.bsn', '12345');
    const res = await toFhir(broken.join('\r\n'), 'en');
    expect(res.status).toBe(422);
    expect(res.body.issue!.map((i) => i.diagnostics)).toEqual([
      'row 3, parent.bsn: "12345" is not a BSN; expected 9 digits',
    ]);
  });

  it('names a quoted field that runs on over several lines by the line it starts on', async () => {
    const broken = withCell(lines, 6, 'child.school', '"Basisschool De Wieken');
    const res = await toFhir(broken.join('\r\n'), 'en');
    expect(res.status).toBe(422);
    expect(res.body.issue!.map((i) => i.diagnostics)).toEqual([
      'row 6, child.school: a quoted field that starts on line 6 closes only on line 12, followed by more text; is there a stray quote?',
    ]);
  });

  it('answers the mistakes of a CSV sent to $exchange as nativePayload the same way, before any decision', async () => {
    const broken = withCell(lines, 3, 'parent.bsn', '123456789');
    const res = await fetch(`${sandbox.url}/fhir/$exchange`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/fhir+json',
        'accept-language': 'nl',
      },
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: 'recipient', valueReference: { reference: 'Organization/huisartsen-de-linde' } },
          {
            name: 'subject',
            valueIdentifier: { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999955585' },
          },
          {
            name: 'purpose',
            valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' },
          },
          { name: 'nativePayload', valueString: broken.join('\r\n') },
          { name: 'format', valueCode: 'cjg-referral' },
        ],
      }),
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as OperationOutcome;
    expect(body.issue!.map((i) => [i.expression![0], i.diagnostics])).toEqual([
      [
        'Parameters.parameter[nativePayload].row 3.parent.bsn',
        'regel 3, parent.bsn: "123456789" is geen geldig BSN; verwacht 9 cijfers die de elfproef doorstaan',
      ],
    ]);
  });

  it('lists a missing required value and a form without children, without follow-on errors', async () => {
    let broken = withCell(lines, 2, 'referrerName', '');
    broken = broken.filter((l) => !l.startsWith('child;CMPG-2026-003'));
    const res = await toFhir(broken.join('\r\n'), 'en');
    expect(res.status).toBe(422);
    const third = broken.findIndex((l) => l.startsWith('referral;CMPG-2026-003')) + 1;
    expect(res.body.issue!.map((i) => i.diagnostics)).toEqual([
      'row 2, referrerName: is empty; this field is required',
      `row ${third}: the form has 0 child row(s); expected at least 1`,
    ]);
  });
});
