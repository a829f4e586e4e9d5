// Reading CSV: the delimiter detected from the header line, and any text at all answered with problems, never a crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectDelimiter, readCsv, writeCsv } from './csv.js';
import { NativeInputError } from './referral-format.js';
import { CSV_COLUMNS, referralsFromCsv } from './referral-csv.js';

describe('reading CSV', () => {
  it('detects ; (Dutch Excel) or , from the header line, not from quoted text', () => {
    expect(detectDelimiter('a;b;c\r\n1,5;2;3')).toBe(';');
    expect(detectDelimiter('a,b,c\n"x;y;z",2,3')).toBe(',');
    expect(detectDelimiter('"a;b;c",d\n')).toBe(',');
  });

  it('writes what it reads back, with either delimiter', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(';' as const, ',' as const),
        (rows, delimiter) => {
          const header = ['kolom;een', 'kolom,twee', 'drie'];
          const text = writeCsv([header, ...rows], delimiter);
          const read = readCsv(text);
          expect(read.problems).toEqual([]);
          expect(read.header).toEqual(header);
          expect(read.rows.map((r) => r.fields)).toEqual(rows);
        },
      ),
    );
  });

  it('writes no cell a spreadsheet reads as a formula, and reads its own cells back as they were', () => {
    const row = ['=HYPERLINK("http://x")', '+31 6 12345678', '@SUM(1+1)', '-2+3', '\t=1+1', 'gewoon'];
    const text = writeCsv([['a', 'b', 'c', 'd', 'e', 'f'], row], ';');
    const cells = text
      .split('\r\n')[1]!
      .split(';')
      .map((c) => c.replace(/^"/, ''));
    for (const cell of cells.slice(0, 5)) expect(cell.startsWith("'")).toBe(true);
    expect(cells[5]).toBe('gewoon');
    expect(readCsv(text).rows[0]!.fields).toEqual(row);
    // A value that already starts with a quote before such a character reads back as written too.
    const quoted = ["'=x", "''+y", "'gewoon"];
    expect(readCsv(writeCsv([['a', 'b', 'c'], quoted])).rows[0]!.fields).toEqual(quoted);
  });

  it('answers any text whatever with mapped forms or NativeInputError, never another error', () => {
    const pieces = fc.constantFrom(
      '"',
      ';',
      ',',
      '\r\n',
      '\n',
      '\r',
      '\uFEFF',
      'referral',
      'child',
      'ja',
      'x',
      '',
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(pieces, fc.string()), { maxLength: 60 }),
        fc.boolean(),
        (parts, withHeader) => {
          const text = (withHeader ? CSV_COLUMNS.join(';') + '\r\n' : '') + parts.join('');
          try {
            referralsFromCsv(text, 'nl');
          } catch (err) {
            expect(err).toBeInstanceOf(NativeInputError);
            expect((err as NativeInputError).issues.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
