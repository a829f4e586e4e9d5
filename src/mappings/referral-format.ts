// The cjg-referral format as a whole: the JSON schema and checks of a form, its CSV layout (one row per referral,
// parent, child or involved agency), and both directions over any number of referrals.
import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import {
  agencyEntity,
  childEntity,
  MappingError,
  parentEntity,
  referralEntity,
  referralFromFhir,
  referralToFhir,
  type NativeRecord,
  type NativeReferral,
} from './cjg-referral.js';
import { parseCsv, writeCsv, CsvError } from './csv.js';
import { describeEntity, invalid, recordChecker, type Entity, type Field } from './fields.js';

/** Invalid native input: every problem found, each with its place (JSON path, or CSV row and column). */
export class NativeInputError extends Error {
  constructor(readonly issues: OperationOutcomeIssue[]) {
    super(issues[0]?.diagnostics ?? 'invalid input');
  }
}

const MAX_ISSUES = 100;
type ListName = 'parents' | 'children' | 'agencies';

/** Checks one form: its shape against the schema, then BSN 11-tests and dates (real, not in the future). */
export const checkReferral = recordChecker('cjg-referral', referralEntity as Entity<never>, {
  parents: { entity: parentEntity as Entity<never>, maxItems: 4 },
  children: { entity: childEntity as Entity<never>, required: true, minItems: 1, maxItems: 20 },
  agencies: { entity: agencyEntity as Entity<never> },
});

/** Checks and maps one JSON form; throws NativeInputError with every problem. */
export function referralJsonToFhir(input: unknown): Bundle {
  const issues = checkReferral(input);
  if (issues.length) throw new NativeInputError(issues.slice(0, MAX_ISSUES));
  return referralToFhir(input as NativeReferral);
}

// CSV: the columns are `referralId`, `record` (referral | parent | child | agency), then every field of the
// referral, and every field of the others prefixed with their record name (parent.bsn, child.bsn, agency.name, …).
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

function cell(f: Field<never>, text: string, where: string, issues: OperationOutcomeIssue[]): unknown {
  if (f.type === 'boolean') {
    const t = text.trim().toLowerCase();
    if (['true', 'ja', 'yes', 'j', 'y', '1'].includes(t)) return true;
    if (['false', 'nee', 'no', 'n', '0'].includes(t)) return false;
    issues.push(invalid(where, `${where}: "${text}" is not yes/no (true, false, ja, nee)`));
    return undefined;
  }
  if (f.type === 'codes')
    return text
      .split(';')
      .map((c) => c.trim())
      .filter(Boolean);
  return text;
}

/** Reads a CSV of referral forms; every row is checked, and nothing is mapped unless every form is valid. */
export function referralsFromCsv(text: string): NativeReferral[] {
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) throw new NativeInputError([invalid(`line ${err.row}`, err.message)]);
    throw err;
  }
  const header = rows.shift() ?? [];
  const missing = CSV_COLUMNS.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !CSV_COLUMNS.includes(c));
  if (missing.length || unknown.length) {
    throw new NativeInputError([
      ...(missing.length
        ? [
            invalid(
              'header',
              `the CSV lacks the column(s) ${missing.join(', ')}; the first line must name every column of the cjg-referral table`,
            ),
          ]
        : []),
      ...(unknown.length ? [invalid('header', `unknown column(s): ${unknown.join(', ')}`)] : []),
    ]);
  }
  const index = new Map(header.map((c, i) => [c, i]));
  const issues: OperationOutcomeIssue[] = [];
  const forms: NativeReferral[] = [];
  /** Per form, the CSV row of the form itself and of each list entry, to name rows in the issues. */
  const rowsOf: Map<string, number>[] = [];
  let current: NativeReferral | undefined;
  rows.forEach((row, r) => {
    const line = r + 2;
    if (row.length !== header.length) {
      issues.push(
        invalid(`row ${line}`, `row ${line} has ${row.length} fields; the header has ${header.length}`),
      );
      return;
    }
    const kind = row[index.get('record')!] as RecordKind;
    const entity = RECORDS[kind];
    if (!entity) {
      issues.push(
        invalid(`row ${line}.record`, `row ${line}: record must be referral, parent, child or agency`),
      );
      return;
    }
    const record: NativeRecord = {};
    for (const f of entity.fields as Field<never>[]) {
      const text = row[index.get(column(kind, f))!]!;
      if (text === '') continue;
      const v = cell(f, text, `row ${line}.${column(kind, f)}`, issues);
      if (v !== undefined) record[f.name] = v;
    }
    // Fields of other record kinds must stay empty on this row.
    for (const [other, otherEntity] of Object.entries(RECORDS))
      if (other !== kind)
        for (const f of otherEntity.fields as Field<never>[]) {
          const c = column(other as RecordKind, f);
          if (c !== 'referralId' && row[index.get(c)!] !== '')
            issues.push(
              invalid(`row ${line}.${c}`, `row ${line} is a ${kind} row; ${c} belongs to ${other} rows`),
            );
        }
    if (kind === 'referral') {
      current = { ...record, children: [] } as NativeReferral;
      forms.push(current);
      rowsOf.push(new Map([['', line]]));
      return;
    }
    if (!current) {
      issues.push(invalid(`row ${line}`, `row ${line}: a ${kind} row must follow its referral row`));
      return;
    }
    const list = LIST_OF[kind];
    const entries = ((current as Record<string, NativeRecord[] | undefined>)[list] ??= []);
    rowsOf[rowsOf.length - 1]!.set(`${list}[${entries.length}]`, line);
    entries.push(record);
  });
  forms.forEach((form, i) => {
    for (const list of ['parents', 'agencies'] as const) if (form[list]?.length === 0) delete form[list];
    for (const found of checkReferral(form)) {
      const path = found.expression?.[0] ?? '';
      const [, entry, rest] = /^((?:parents|children|agencies)\[\d+\])?\.?(.*)$/.exec(path) ?? [];
      const line = rowsOf[i]!.get(entry ?? '') ?? rowsOf[i]!.get('')!;
      const kind = entry
        ? (Object.entries(LIST_OF).find(([, l]) => entry.startsWith(l))?.[0] as RecordKind)
        : 'referral';
      const col = rest ? (kind === 'referral' ? rest : `${kind}.${rest}`) : '';
      const where = `row ${line}${col ? `.${col}` : ''}`;
      issues.push({
        ...found,
        expression: [where],
        diagnostics: `${where} (${path}): ${found.diagnostics?.replace(`${path}: `, '').replace(`${path} `, '')}`,
      });
    }
  });
  if (issues.length) throw new NativeInputError(issues.slice(0, MAX_ISSUES));
  return forms;
}

/** Writes referral forms as CSV in the layout referralsFromCsv reads. */
export function referralsToCsv(forms: NativeReferral[]): string {
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
  return writeCsv(out);
}

export { MappingError, referralFromFhir, referralToFhir };

export const referralTables = [referralEntity, parentEntity, childEntity, agencyEntity].map((e) =>
  describeEntity(e as Entity<unknown>),
);
