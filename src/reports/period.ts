// What a municipal report is asked for: its period (a year, quarter or month, or a range of them) and the municipality.
import { MUNICIPALITY_SYSTEM } from '../mappings/municipal-case.js';
import { daysInMonth } from '../time/amsterdam.js';

export interface ReportPeriod {
  label: string;
  /** year, quarter or month; range for two of them joined by a slash. */
  kind: 'year' | 'quarter' | 'month' | 'range';
  /** First and last day, YYYY-MM-DD. */
  start: string;
  end: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `2023`, `2023-Q2`, `2023-05`, or a range of two of them (`2005/2007`, `2023-Q1/2023-Q3`); undefined otherwise. */
export function parsePeriod(text: string): ReportPeriod | undefined {
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const first = onePeriod(parts[0]!);
  const last = parts.length === 2 ? onePeriod(parts[1]!) : first;
  if (!first || !last || last.end < first.start) return undefined;
  return { label: text, kind: parts.length === 2 ? 'range' : first.kind, start: first.start, end: last.end };
}

function onePeriod(
  text: string,
): { kind: 'year' | 'quarter' | 'month'; start: string; end: string } | undefined {
  const m = /^(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?$/.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1900 || year > 2999) return undefined;
  const [first, last] = m[2]
    ? [(Number(m[2]) - 1) * 3 + 1, Number(m[2]) * 3]
    : m[3]
      ? [Number(m[3]), Number(m[3])]
      : [1, 12];
  return {
    kind: m[2] ? 'quarter' : m[3] ? 'month' : 'year',
    start: `${year}-${pad(first)}-01`,
    end: `${year}-${pad(last)}-${pad(daysInMonth(year, last))}`,
  };
}

/** A CBS municipality code: `0984`, `GM0984` or `<system>|0984`; the four digits, or undefined. */
export function parseMunicipality(text: string): string | undefined {
  const value = text.includes('|') ? text.slice(text.indexOf('|') + 1) : text;
  if (text.includes('|') && text.slice(0, text.indexOf('|')) !== MUNICIPALITY_SYSTEM) return undefined;
  return /^(?:GM)?(\d{4})$/i.exec(value)?.[1];
}
