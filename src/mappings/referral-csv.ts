// The cjg-referral CSV layout: one row per referral, parent, child or involved agency. Reading checks every cell and
// row of the file and answers all problems at once, each with its line, column, value and what was expected.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Language } from '../consent/explain.js';
import { agencyEntity, referralEntity, type NativeReferral } from './cjg-referral.js';
import { childEntity, parentEntity } from './referral-people.js';
import { csvIssue, readCsv, writeCsv, type CsvProblem } from './csv.js';
import { emptyRequired, readCell, todayIn } from './csv-cells.js';
import type { Field, NativeRecord } from './fields.js';
import {
  checkReferral,
  MAX_ISSUES,
  NativeInputError,
  REFERRAL_LISTS,
  type ListName,
} from './referral-format.js';

// The columns are `record` (referral | parent | child | agency), then every field of the referral, and every field
// of the others prefixed with their record name (parent.bsn, child.bsn, agency.name, …).
const RECORDS = {
  referral: referralEntity,
  parent: parentEntity,
  child: childEntity,
  agency: agencyEntity,
} as const;
type RecordKind = keyof typeof RECORDS;
const LIST_OF: Record<Exclude<RecordKind, 'referral'>, ListName> = {
  parent: 'parents',
  child: 'children',
  agency: 'agencies',
};

const column = (kind: RecordKind, f: Field<never>) => (kind === 'referral' ? f.name : `${kind}.${f.name}`);

export const CSV_COLUMNS: string[] = [
  'record',
  ...Object.entries(RECORDS).flatMap(([kind, entity]) =>
    (entity.fields as Field<never>[]).map((f) => column(kind as RecordKind, f)).filter((c) => c !== 'record'),
  ),
];

/** One form as it is being read: its first line, the lines of its list entries, and whether a row of it was lost. */
interface FormInProgress {
  form: NativeReferral;
  line: number;
  lines: Map<string, number>;
  incomplete: boolean;
}

const at = (line: number, column: string | undefined, nl: string, en: string): CsvProblem => ({
  line,
  column,
  text: { nl, en },
});

function headerProblems(header: string[]): CsvProblem[] {
  const problems: CsvProblem[] = [];
  const missing = CSV_COLUMNS.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !CSV_COLUMNS.includes(c));
  const twice = header.filter((c, i) => header.indexOf(c) !== i);
  if (missing.length)
    problems.push(
      at(
        1,
        undefined,
        `de kopregel mist de kolom(men) ${missing.join(', ')}; de eerste regel noemt elke kolom van de cjg-referral-tabel (GET /mappings)`,
        `the CSV lacks the column(s) ${missing.join(', ')}; the first line must name every column of the cjg-referral table (GET /mappings)`,
      ),
    );
  if (unknown.length)
    problems.push(
      at(
        1,
        undefined,
        `onbekende kolom(men): ${unknown.join(', ')}`,
        `unknown column(s): ${unknown.join(', ')}`,
      ),
    );
  if (twice.length)
    problems.push(
      at(
        1,
        undefined,
        `dubbele kolom(men): ${twice.join(', ')}`,
        `column(s) named twice: ${twice.join(', ')}`,
      ),
    );
  return problems;
}

/** The checks of the form as a whole (the schema's, BSN and dates again) for a file whose every cell passed. */
function formIssues(forms: FormInProgress[]): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const { form, line: first, lines } of forms)
    for (const found of checkReferral(form)) {
      const path = found.expression?.[0] ?? '';
      const [, entry, rest] = /^((?:parents|children|agencies)\[\d+\])?\.?(.*)$/.exec(path) ?? [];
      const line = lines.get(entry ?? '') ?? first;
      const kind = entry ? Object.entries(LIST_OF).find(([, l]) => entry.startsWith(l))?.[0] : 'referral';
      const col = rest ? (kind === 'referral' ? rest : `${kind}.${rest}`) : '';
      const where = `row ${line}${col ? `.${col}` : ''}`;
      issues.push({ ...found, expression: [where], diagnostics: `${where} (${path}): ${found.diagnostics}` });
    }
  return issues;
}

/**
 * Reads a CSV of referral forms (`;` or `,`, dd-mm-jjjj or ISO dates, ja/nee); nothing is mapped unless every form is
 * valid. Throws NativeInputError with every problem of the file, in `lang`.
 */
export function referralsFromCsv(text: string, lang: Language = 'en', now = new Date()): NativeReferral[] {
  const csv = readCsv(text);
  const { header } = csv;
  const problems = [...csv.problems, ...headerProblems(header)];
  const index = new Map(header.map((c, i) => [c, i]));
  if (!index.has('record')) throw new NativeInputError(problems.map((p) => csvIssue(p, lang)));
  const today = todayIn(now);
  const forms: FormInProgress[] = [];
  let current: FormInProgress | undefined;
  for (const { line, fields } of csv.rows) {
    const get = (c: string) => fields[index.get(c) ?? -1] ?? '';
    const beyond = fields.length > csv.width || fields.slice(header.length).some((f) => f !== '');
    const kind = get('record') as RecordKind;
    if (fields.length < header.length || beyond) {
      problems.push(
        at(
          line,
          undefined,
          `regel ${line} heeft ${fields.length} velden, de kopregel ${header.length}; staat er een scheidingsteken te veel of te weinig (zet tekst met ${csv.delimiter} tussen aanhalingstekens)?`,
          `row ${line} has ${fields.length} fields, the header ${header.length}; is a delimiter missing or one too many (quote text that holds ${csv.delimiter})?`,
        ),
      );
      if (kind === 'referral')
        current = { form: { children: [] } as never, line, lines: new Map(), incomplete: true };
      if (current) current.incomplete = true;
      continue;
    }
    if (!Object.hasOwn(RECORDS, kind)) {
      problems.push(
        at(
          line,
          'record',
          `"${kind}" is geen soort regel; verwacht referral, parent, child of agency`,
          `"${kind}" is not a kind of row; expected referral, parent, child or agency`,
        ),
      );
      if (current) current.incomplete = true;
      continue;
    }
    const record: NativeRecord = {};
    for (const f of RECORDS[kind].fields as Field<never>[]) {
      const c = column(kind, f);
      const cell = get(c);
      if (cell.trim() === '') {
        if (f.required && index.has(c)) problems.push({ line, column: c, text: emptyRequired });
        continue;
      }
      const result = readCell(f, cell, today);
      if ('problem' in result) problems.push({ line, column: c, text: result.problem });
      else record[f.name] = result.value;
    }
    // Fields of other record kinds must stay empty on this row.
    for (const [other, entity] of Object.entries(RECORDS))
      for (const f of other === kind ? [] : (entity.fields as Field<never>[])) {
        const c = column(other as RecordKind, f);
        if (c !== 'referralId' && get(c) !== '')
          problems.push(
            at(
              line,
              c,
              `"${get(c)}" hoort op ${other}-regels; verwacht leeg op ${kind}-regels`,
              `"${get(c)}" belongs on ${other} rows; expected empty on ${kind} rows`,
            ),
          );
      }
    if (kind === 'referral') {
      current = {
        form: { ...record, children: [] } as NativeReferral,
        line,
        lines: new Map(),
        incomplete: false,
      };
      forms.push(current);
      continue;
    }
    if (!current) {
      problems.push(
        at(
          line,
          'record',
          `een ${kind}-regel hoort onder de referral-regel van zijn aanmelding`,
          `a ${kind} row must follow the referral row of its form`,
        ),
      );
      continue;
    }
    const list = LIST_OF[kind];
    const entries = ((current.form as Record<string, NativeRecord[] | undefined>)[list] ??= []);
    current.lines.set(`${list}[${entries.length}]`, line);
    entries.push(record);
  }
  for (const f of forms) {
    for (const list of ['parents', 'agencies'] as const) if (f.form[list]?.length === 0) delete f.form[list];
    if (f.incomplete) continue;
    for (const [list, spec] of Object.entries(REFERRAL_LISTS)) {
      const n = (f.form as Record<string, unknown[] | undefined>)[list]?.length ?? 0;
      const kind = Object.entries(LIST_OF).find(([, l]) => l === list)![0];
      if (spec.minItems !== undefined && n < spec.minItems)
        problems.push(
          at(
            f.line,
            undefined,
            `de aanmelding heeft ${n} ${kind}-regel(s); verwacht ten minste ${spec.minItems}`,
            `the form has ${n} ${kind} row(s); expected at least ${spec.minItems}`,
          ),
        );
      if (spec.maxItems !== undefined && n > spec.maxItems)
        problems.push(
          at(
            f.line,
            undefined,
            `de aanmelding heeft ${n} ${kind}-regels; verwacht ten hoogste ${spec.maxItems}`,
            `the form has ${n} ${kind} rows; expected at most ${spec.maxItems}`,
          ),
        );
    }
  }
  problems.sort((a, b) => a.line - b.line);
  const issues = problems.length ? problems.map((p) => csvIssue(p, lang)) : formIssues(forms);
  if (issues.length) throw new NativeInputError(issues.slice(0, MAX_ISSUES));
  return forms.map((f) => f.form);
}

/** Writes referral forms as CSV in the layout referralsFromCsv reads (`;` for Dutch Excel). */
export function referralsToCsv(forms: NativeReferral[], delimiter: ';' | ',' = ','): string {
  const out: string[][] = [CSV_COLUMNS];
  const line = (kind: RecordKind, record: NativeRecord, referralId: unknown) => {
    const row = CSV_COLUMNS.map(() => '');
    row[0] = kind;
    const set = (c: string, v: unknown) => {
      const i = CSV_COLUMNS.indexOf(c);
      if (i >= 0 && v !== undefined) row[i] = Array.isArray(v) ? v.join(';') : String(v);
    };
    set('referralId', referralId);
    for (const f of RECORDS[kind].fields as Field<never>[]) set(column(kind, f), record[f.name]);
    out.push(row);
  };
  for (const form of forms) {
    const { parents = [], children, agencies = [], ...top } = form;
    line('referral', top, top.referralId);
    parents.forEach((p) => line('parent', p, top.referralId));
    children.forEach((c) => line('child', c, top.referralId));
    agencies.forEach((a) => line('agency', a, top.referralId));
  }
  return writeCsv(out, delimiter);
}
