// The native formats the gateway maps, in one registry: what GET /mappings lists and the mapping endpoints use.
import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { unreadable, type Verdict } from '../fhir/verdict.js';
import {
  NativeInputError,
  referralFromFhir,
  referralJsonToFhir,
  referralTables,
  referralToFhir,
} from './referral-format.js';
import { CSV_COLUMNS, referralsFromCsv, referralsToCsv } from './referral-csv.js';
import type { Language } from '../consent/explain.js';
import {
  describeEntity,
  invalid,
  MappingError,
  type Entity,
  type ListSpec,
  type NativeRecord,
} from './fields.js';
import { recordChecker } from './record-check.js';
import {
  goalEntity,
  registrationEntity,
  registrationFromFhir,
  registrationToFhir,
  type NativeRegistration,
} from './youthcare-registration.js';
import {
  assignmentEntity,
  caseFromFhir,
  caseToFhir,
  decisionEntity,
  type NativeCase,
} from './municipal-case.js';

export interface NativeFormat {
  name: string;
  title: string;
  contentTypes: string[];
  tables: ReturnType<typeof describeEntity>[];
  csvColumns?: string[];
  /**
   * Checks and maps one native JSON record. Throws NativeInputError with every problem, in `lang`; dates may not lie
   * after the Dutch date of `now` (the system time if absent).
   */
  jsonToFhir(input: unknown, lang?: Language, now?: Date): Bundle;
  /** Checks and maps a CSV of records (only formats with csvColumns); problems in `lang`, dates up to `now`'s. */
  csvToFhir?(text: string, lang?: Language, now?: Date): Bundle[];
  fromFhir(bundle: Bundle): { native: NativeRecord; issues: OperationOutcomeIssue[] };
  toCsv?(records: NativeRecord[]): string;
}

/** A JSON format of one root record with lists of sub-records, each list an entity of its own. */
function jsonFormat<N extends NativeRecord>(def: {
  name: string;
  title: string;
  root: Entity<never>;
  lists: Record<string, ListSpec>;
  toFhir(native: N): Bundle;
  fromFhir(bundle: Bundle): { native: N; issues: OperationOutcomeIssue[] };
}): NativeFormat {
  const check = recordChecker(def.name, def.root, def.lists);
  return {
    name: def.name,
    title: def.title,
    contentTypes: ['application/json'],
    tables: [def.root, ...Object.values(def.lists).map((l) => l.entity)].map((e) =>
      describeEntity(e as Entity<unknown>),
    ),
    jsonToFhir(input, lang, now) {
      const issues = check(input, now, lang);
      if (issues.length) throw new NativeInputError(issues.slice(0, 100));
      return def.toFhir(input as N);
    },
    fromFhir: def.fromFhir,
  };
}

export const FORMATS: Record<string, NativeFormat> = {
  'cjg-referral': {
    name: 'cjg-referral',
    title: 'CJG referral form (aanmeldformulier): referral, parents, children, involved agencies',
    contentTypes: ['application/json', 'text/csv'],
    tables: referralTables,
    csvColumns: CSV_COLUMNS,
    jsonToFhir: referralJsonToFhir,
    csvToFhir: (text, lang, now) => referralsFromCsv(text, lang, now).map(referralToFhir),
    fromFhir: referralFromFhir,
    toCsv: (records) => referralsToCsv(records as Parameters<typeof referralsToCsv>[0]),
  },
  'youthcare-registration': jsonFormat<NativeRegistration>({
    name: 'youthcare-registration',
    title: "A youth-care provider's registration: client, care trajectory, care plan and goals",
    root: registrationEntity as Entity<never>,
    lists: { goals: { entity: goalEntity as Entity<never>, minItems: 1 } },
    toFhir: registrationToFhir,
    fromFhir: registrationFromFhir,
  }),
  'municipal-case': jsonFormat<NativeCase>({
    name: 'municipal-case',
    title:
      'A municipal decision (Jeugdwet or Wmo) with its assignments: product, period, volume, status (iJw names)',
    root: decisionEntity as Entity<never>,
    lists: { Toewijzingen: { entity: assignmentEntity as Entity<never>, required: true, minItems: 1 } },
    toFhir: caseToFhir,
    fromFhir: caseFromFhir,
  }),
};

/** The native format of this name; own keys only, so "__proto__" or "constructor" never finds Object's members. */
export function formatNamed(name: string | undefined): NativeFormat | undefined {
  return name !== undefined && Object.hasOwn(FORMATS, name) ? FORMATS[name] : undefined;
}

/**
 * Maps a native body: a JSON record (an object) to one Bundle, CSV text (formats with columns) to one Bundle per
 * record. Invalid input is refused with every problem; a body the format cannot read at all is unreadable. `at` is
 * where the record stands in the request: the refusal's issues are placed there; `now` the request's moment, which
 * dates may not pass (the system time if absent).
 */
export function mapNative(
  format: NativeFormat,
  body: unknown,
  at?: string,
  lang?: Language,
  now?: Date,
): Verdict<Bundle[]> {
  if (typeof body === 'string') {
    const csvToFhir = format.csvToFhir;
    if (!csvToFhir) return unreadable(`${format.name} is read as JSON only`, at);
    return mapped(() => csvToFhir(body, lang, now), at);
  }
  if (body && typeof body === 'object' && !Array.isArray(body))
    return mapped(() => [format.jsonToFhir(body, lang, now)], at);
  return unreadable(`Send the record as ${format.contentTypes.join(' or ')}`, at);
}

/** Runs a mapping; its NativeInputError becomes an invalid verdict, each issue under `at` when given. */
function mapped(map: () => Bundle[], at?: string): Verdict<Bundle[]> {
  try {
    return { issues: [], value: map() };
  } catch (err) {
    if (!(err instanceof NativeInputError)) throw err;
    const issues = at
      ? err.issues.map((i) => ({ ...i, expression: (i.expression ?? []).map((e) => `${at}.${e}`) }))
      : err.issues;
    return { refused: 'invalid', issues };
  }
}

/**
 * Maps Bundles back onto native records, one each; what the format cannot hold is among the issues (warnings). A
 * Bundle whose parts are missing or do not hang together refuses them all (invalid).
 */
export function nativeFromFhir(format: NativeFormat, bundles: Bundle[]): Verdict<NativeRecord[]> {
  const forms: NativeRecord[] = [];
  const issues: OperationOutcomeIssue[] = [];
  try {
    for (const bundle of bundles) {
      const { native, issues: found } = format.fromFhir(bundle);
      forms.push(native);
      issues.push(...found);
    }
  } catch (err) {
    if (err instanceof MappingError)
      return { refused: 'invalid', issues: [invalid(err.expression, err.message)] };
    throw err;
  }
  return { issues, value: forms };
}
