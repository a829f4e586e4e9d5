// CSV as agency systems export it, read with csv-parse: `;` (Dutch Excel) or `,` detected from the header line, a
// UTF-8 BOM and CRLF or LF line ends accepted, quotes strict (a stray quote is an error, never silently kept), and
// every problem of a file collected with its line instead of stopping at the first.
import { parse } from 'csv-parse/sync';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Language } from '../consent/explain.js';

/** A sentence in both languages the gateway answers in. */
export interface Bilingual {
  nl: string;
  en: string;
}

/** One problem of a CSV file: where (line, column name) and what, in Dutch and English. */
export interface CsvProblem {
  line: number;
  column?: string;
  text: Bilingual;
}

export interface CsvRow {
  /** The line of the file the row starts on (1-based; the header is line 1). */
  line: number;
  fields: string[];
}

export interface ParsedCsv {
  delimiter: ';' | ',';
  header: string[];
  /** Fields in the header line, counting the empty ones Excel adds on the right. */
  width: number;
  rows: CsvRow[];
  problems: CsvProblem[];
}

/**
 * The delimiter of a file: the one of `;` and `,` that occurs more often outside quotes in its first line (the
 * header). Dutch Excel writes `;` because the comma is the decimal separator.
 */
export function detectDelimiter(text: string): ';' | ',' {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && c === ';') semicolons++;
    else if (!quoted && c === ',') commas++;
  }
  return semicolons > commas ? ';' : ',';
}

const newlines = (fields: string[]) => fields.reduce((n, f) => n + (f.match(/\n/g)?.length ?? 0), 0);

/** What csv-parse reports, in words for the person who made the export. */
function quoteProblem(
  code: string,
  line: number,
  end: number,
  column: string | undefined,
  value: string,
): CsvProblem {
  const at: Bilingual = {
    nl: column ? `kolom ${column}` : 'een veld',
    en: column ? `column ${column}` : 'a field',
  };
  switch (code) {
    case 'INVALID_OPENING_QUOTE':
      return {
        line,
        column,
        text: {
          nl: `${at.nl} bevat een aanhalingsteken midden in de waarde ("${value}…"); zet de hele waarde tussen aanhalingstekens en verdubbel het teken ("")`,
          en: `${at.en} holds a quote inside its value ("${value}…"); quote the whole value and double the quote ("")`,
        },
      };
    case 'CSV_INVALID_CLOSING_QUOTE':
      return {
        line,
        column,
        text:
          end > line
            ? {
                nl: `een veld tussen aanhalingstekens dat op regel ${line} begint, sluit pas op regel ${end} en daar volgt nog tekst; staat er een aanhalingsteken te veel?`,
                en: `a quoted field that starts on line ${line} closes only on line ${end}, followed by more text; is there a stray quote?`,
              }
            : {
                nl: `na het sluitende aanhalingsteken van ${at.nl} volgt nog tekst; verwacht het scheidingsteken of het einde van de regel`,
                en: `text follows the closing quote of ${at.en}; expected the delimiter or the end of the line`,
              },
      };
    case 'CSV_QUOTE_NOT_CLOSED':
      return {
        line,
        text: {
          nl: `een veld tussen aanhalingstekens dat op regel ${line} begint wordt nooit gesloten`,
          en: `a quoted field that starts on line ${line} is never closed`,
        },
      };
    default:
      return { line, text: { nl: `regel ${line} is geen geldige CSV`, en: `line ${line} is not valid CSV` } };
  }
}

/** Reads CSV text into a header and rows; unreadable records become problems and are left out. */
export function readCsv(text: string): ParsedCsv {
  const delimiter = detectDelimiter(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const errors: { code: string; line: number; end: number; index?: number; field?: string }[] = [];
  const records: CsvRow[] = [];
  let lastLine = 0;
  const output = parse(text, {
    delimiter,
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: (record, context) => {
      lastLine = context.lines;
      return record;
    },
    on_skip: (err) => {
      const e = err as unknown as { code: string; lines: number; index?: number; field?: string };
      // After an error the parser resumes inside the same record and may stumble again: one problem per record.
      if (errors.at(-1)?.end !== e.lines)
        errors.push({ code: e.code, line: lastLine + 1, end: e.lines, index: e.index, field: e.field });
      lastLine = e.lines;
      return undefined;
    },
  }) as unknown as { record: string[]; info: { lines: number } }[];
  for (const { record, info } of output) {
    const row = { line: info.lines - newlines(record), fields: record.map(unneutralised) };
    lastLine = info.lines;
    records.push(row);
  }
  const [head, ...rows] = records;
  const problems = errors.map((e) =>
    quoteProblem(e.code, e.line, e.end, head?.fields[e.index ?? -1], (e.field ?? '').slice(0, 40)),
  );
  // Excel adds empty columns to the right of the table; they carry nothing.
  const names = [...(head?.fields ?? [])];
  while (names.length && names[names.length - 1] === '') names.pop();
  return { delimiter, header: names, width: head?.fields.length ?? 0, rows, problems };
}

/** A CSV problem as an OperationOutcome issue: expression `row N.column`, diagnostics in the caller's language. */
export function csvIssue(problem: CsvProblem, lang: Language): OperationOutcomeIssue {
  const where = `row ${problem.line}${problem.column ? `.${problem.column}` : ''}`;
  const place = { nl: `regel ${problem.line}`, en: `row ${problem.line}` }[lang];
  return {
    severity: 'error',
    code: 'invalid',
    expression: [where],
    diagnostics: `${place}${problem.column ? `, ${problem.column}` : ''}: ${problem.text[lang]}`,
  };
}

/**
 * A cell a spreadsheet would read as a formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading
 * single quote, as OWASP advises against CSV injection: a referral written by one agency must not become a live
 * formula when another opens the export in Excel.
 */
export function neutralised(text: string): string {
  // A value that starts with quotes before such a character gets one more, so that reading strips exactly one.
  return /^'*[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** The reverse on reading, so that the gateway's own exports read back as written (a phone number +31…). */
function unneutralised(text: string): string {
  return /^'+[=+\-@\t\r]/.test(text) ? text.slice(1) : text;
}

export function csvField(value: string, delimiter: ';' | ',' = ','): string {
  const text = neutralised(value);
  return text.includes(delimiter) || /["\r\n]/.test(text) || text.trim() !== text
    ? `"${text.replace(/"/g, '""')}"`
    : text;
}

export function writeCsv(rows: string[][], delimiter: ';' | ',' = ','): string {
  return rows.map((r) => r.map((v) => csvField(v, delimiter)).join(delimiter)).join('\r\n') + '\r\n';
}
