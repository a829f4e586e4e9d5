// One CSV cell against its field: the text as Excel writes it (dd-mm-jjjj dates, ja/nee) read into the native value,
// or what is wrong with it, naming the value and what was expected, in Dutch and English.
import { dutchDate } from '../time/amsterdam.js';
import { isValidBsn } from './bsn.js';
import type { Bilingual } from './csv.js';
import { isCalendarDate, type Field } from './fields.js';

export type CellResult = { value: unknown } | { problem: Bilingual };

const YES = ['true', 'ja', 'yes', 'j', 'y', '1'];
const NO = ['false', 'nee', 'no', 'n', '0'];

/** `31-12-2015`, `1-2-2015` or `31/12/2015` (Dutch Excel) and `2015-12-31` (ISO) as YYYY-MM-DD; other text as is. */
export function isoDate(text: string): string {
  const dutch = /^(\d{1,2})[-/](\d{1,2})[-/](\d{4})$/.exec(text);
  return dutch ? `${dutch[3]}-${dutch[2]!.padStart(2, '0')}-${dutch[1]!.padStart(2, '0')}` : text;
}

const problem = (nl: string, en: string): CellResult => ({ problem: { nl, en } });

/** Reads one non-empty cell of a field; `today` is the Dutch calendar date that dates may not pass. */
export function readCell(f: Field<never>, raw: string, today: string): CellResult {
  const text = raw.trim();
  const shown = `"${raw.length > 60 ? `${raw.slice(0, 60)}…` : raw}"`;
  switch (f.type) {
    case 'boolean': {
      const t = text.toLowerCase();
      if (YES.includes(t)) return { value: true };
      if (NO.includes(t)) return { value: false };
      return problem(
        `${shown} is geen ja/nee; verwacht ja of nee`,
        `${shown} is not yes/no; expected ja or nee (true, false)`,
      );
    }
    case 'bsn':
      if (!/^\d{9}$/.test(text))
        return problem(
          `${shown} is geen BSN; verwacht 9 cijfers`,
          `${shown} is not a BSN; expected 9 digits`,
        );
      if (!isValidBsn(text))
        return problem(
          `${shown} is geen geldig BSN; verwacht 9 cijfers die de elfproef doorstaan`,
          `${shown} is not a valid BSN; expected 9 digits that pass the 11-test`,
        );
      return { value: text };
    case 'date': {
      const iso = isoDate(text);
      if (!isCalendarDate(iso))
        return problem(
          `${shown} is geen bestaande datum; verwacht dd-mm-jjjj (of jjjj-mm-dd)`,
          `${shown} is not a date that exists; expected dd-mm-yyyy (or yyyy-mm-dd)`,
        );
      if (!f.future && iso > today)
        return problem(
          `${shown} ligt in de toekomst; verwacht een datum tot en met ${today.split('-').reverse().join('-')}`,
          `${shown} lies in the future; expected a date up to ${today}`,
        );
      return { value: iso };
    }
    case 'code':
      if (f.codes && !f.codes.includes(text))
        return problem(
          `${shown} is geen toegestane code; verwacht een van: ${f.codes.join(', ')}`,
          `${shown} is not an allowed code; expected one of: ${f.codes.join(', ')}`,
        );
      return { value: text };
    case 'codes': {
      const codes = text
        .split(/[;|]/)
        .map((c) => c.trim())
        .filter(Boolean);
      const wrong = f.codes ? codes.filter((c) => !f.codes!.includes(c)) : [];
      if (wrong.length)
        return problem(
          `${shown} bevat ${wrong.map((c) => `"${c}"`).join(', ')}; verwacht codes gescheiden door ; uit: ${f.codes!.join(', ')}`,
          `${shown} holds ${wrong.map((c) => `"${c}"`).join(', ')}; expected codes separated by ; from: ${f.codes!.join(', ')}`,
        );
      if (new Set(codes).size !== codes.length)
        return problem(`${shown} noemt een code twee keer`, `${shown} names a code twice`);
      return { value: codes };
    }
    default:
      if (f.pattern && !new RegExp(f.pattern).test(raw))
        return problem(
          `${shown} heeft niet de vorm ${f.pattern}`,
          `${shown} does not have the form ${f.pattern}`,
        );
      return { value: raw };
  }
}

/** The Dutch calendar date of an instant, the last day a date cell may name. */
export const todayIn = (at: Date) => dutchDate(at);

/** The problem of a required field left empty. */
export const emptyRequired: Bilingual = {
  nl: 'is leeg; dit veld is verplicht',
  en: 'is empty; this field is required',
};
