// The checks of a native JSON record, in one round: its JSON schema (ajv) and what a schema cannot say (BSN 11-tests,
// dates that exist and do not lie in the future), every issue at its field path, naming the value, in Dutch or English.
import type { ErrorObject } from 'ajv';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { dutchDate } from '../time/amsterdam.js';
import type { Language } from '../consent/explain.js';
import { isValidBsn } from './bsn.js';
import {
  compileSchema,
  entitySchema,
  invalid,
  isCalendarDate,
  type Entity,
  type ListSpec,
  type NativeRecord,
} from './fields.js';

/** JSON pointer (/children/1/bsn) to the path style of the issues (children[1].bsn). */
function pathOf(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

function valueAt(input: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .filter(Boolean)
    .reduce<unknown>(
      (v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
      input,
    );
}

const shown = (v: unknown) => JSON.stringify(v)?.slice(0, 80) ?? String(v);
const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
const BSN_PATTERN = '^\\d{9}$';

/** One schema error in words: [Dutch, English], after the field path. */
function schemaText(e: ErrorObject, format: string, value: unknown): [string, string] {
  switch (e.keyword) {
    case 'required':
      return ['is verplicht', 'is required'];
    case 'additionalProperties':
      return [`is geen veld van het formaat ${format}`, `is not a field of the ${format} format`];
    case 'enum': {
      const allowed = (e.params.allowedValues as string[]).join(', ');
      return [
        `${shown(value)} is geen toegestane code; verwacht een van: ${allowed}`,
        `must be one of ${allowed} (got ${shown(value)})`,
      ];
    }
    case 'pattern':
      if (e.params.pattern === DATE_PATTERN)
        return [
          `${shown(value)} is geen datum; verwacht jjjj-mm-dd`,
          `${shown(value)} is not a date; expected YYYY-MM-DD`,
        ];
      if (e.params.pattern === BSN_PATTERN)
        return [
          `${shown(value)} is geen BSN; verwacht 9 cijfers`,
          `${shown(value)} is not a BSN; expected 9 digits`,
        ];
      return [
        `${shown(value)} heeft niet de vorm ${String(e.params.pattern)}`,
        `${shown(value)} does not match ${String(e.params.pattern)}`,
      ];
    case 'type':
      return [
        `${shown(value)} heeft het verkeerde type; verwacht ${String(e.params.type)}`,
        `must be ${String(e.params.type)} (got ${shown(value)})`,
      ];
    case 'minItems':
      return [
        `moet ten minste ${String(e.params.limit)} element(en) hebben`,
        `must have at least ${String(e.params.limit)} item(s)`,
      ];
    case 'maxItems':
      return [
        `mag ten hoogste ${String(e.params.limit)} element(en) hebben`,
        `must have at most ${String(e.params.limit)} item(s)`,
      ];
    case 'minLength':
      return ['mag niet leeg zijn', 'must not be empty'];
    case 'uniqueItems':
      return ['noemt een waarde twee keer', 'names a value twice'];
    default:
      return [`is niet geldig (${e.message ?? e.keyword})`, e.message ?? 'is not valid'];
  }
}

/** The schema errors of a native record as issues, each at its field path. */
export function schemaIssues(
  errors: ErrorObject[],
  format: string,
  input: unknown,
  lang: Language,
): OperationOutcomeIssue[] {
  return errors.map((e) => {
    const at = pathOf(e.instancePath);
    const where =
      e.keyword === 'required'
        ? `${at ? `${at}.` : ''}${String(e.params.missingProperty)}`
        : e.keyword === 'additionalProperties'
          ? `${at ? `${at}.` : ''}${String(e.params.additionalProperty)}`
          : at || '(record)';
    const [nl, en] = schemaText(e, format, valueAt(input, e.instancePath));
    return invalid(where, `${where} ${lang === 'nl' ? nl : en}`);
  });
}

/** What a schema cannot say: BSN 11-tests, and dates that exist and do not lie in the future (Dutch calendar). */
export function checkFieldValues(
  entity: Entity<never>,
  record: Record<string, unknown>,
  at: string,
  today: Date,
  lang: Language,
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const todayText = dutchDate(today);
  const say = (where: string, nl: string, en: string) =>
    issues.push(invalid(where, `${where}: ${lang === 'nl' ? nl : en}`));
  for (const f of entity.fields) {
    const v = record[f.name];
    if (typeof v !== 'string') continue;
    const where = `${at}${at ? '.' : ''}${f.name}`;
    if (f.type === 'bsn' && /^\d{9}$/.test(v) && !isValidBsn(v))
      say(where, `${v} is geen geldig BSN (elfproef)`, `${v} is not a valid BSN (11-test)`);
    if (f.type === 'date' && /^\d{4}-\d{2}-\d{2}$/.test(v)) {
      if (!isCalendarDate(v)) say(where, `${v} is geen bestaande datum`, `${v} is not a date`);
      else if (v > todayText && !f.future)
        say(where, `${v} ligt in de toekomst; verwacht uiterlijk ${todayText}`, `${v} lies in the future`);
    }
  }
  return issues;
}

/**
 * The checks of a native record with lists of sub-records: its JSON schema (compiled once) and the field values
 * (BSN 11-tests, dates) in the same round, so that one answer lists every problem. Returns every issue, each at its
 * field path; a value the schema already refused is not judged again.
 */
export function recordChecker(
  format: string,
  root: Entity<never>,
  lists: Record<string, ListSpec>,
): (input: unknown, today?: Date, lang?: Language) => OperationOutcomeIssue[] {
  const rootSchema = entitySchema(root as Entity<unknown>);
  const validate = compileSchema({
    ...rootSchema,
    required: [
      ...(rootSchema.required as string[]),
      ...Object.entries(lists)
        .filter(([, l]) => l.required)
        .map(([name]) => name),
    ],
    properties: {
      ...(rootSchema.properties as object),
      ...Object.fromEntries(
        Object.entries(lists).map(([name, l]) => [
          name,
          {
            type: 'array',
            items: entitySchema(l.entity as Entity<unknown>),
            ...(l.minItems === undefined ? {} : { minItems: l.minItems }),
            ...(l.maxItems === undefined ? {} : { maxItems: l.maxItems }),
          },
        ]),
      ),
    },
  });
  return (input, today = new Date(), lang = 'en') => {
    const issues = validate(input) ? [] : schemaIssues(validate.errors ?? [], format, input, lang);
    if (!input || typeof input !== 'object' || Array.isArray(input)) return issues;
    const record = input as NativeRecord;
    const values = checkFieldValues(root, record, '', today, lang);
    for (const [name, l] of Object.entries(lists)) {
      const items = record[name];
      if (Array.isArray(items))
        items.forEach((item, i) => {
          if (item && typeof item === 'object' && !Array.isArray(item))
            values.push(...checkFieldValues(l.entity, item as NativeRecord, `${name}[${i}]`, today, lang));
        });
    }
    const refused = new Set(issues.map((i) => i.expression?.[0]));
    return [...issues, ...values.filter((v) => !refused.has(v.expression?.[0]))];
  };
}
