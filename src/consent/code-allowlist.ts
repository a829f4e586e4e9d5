// Which codes survive pseudonymisation: a code from a known code system, in that system's shape, never a BSN.
// A code is only as anonymous as its code system: free text put in a `code` or a made-up system URI carries a name or
// a BSN as well as a description does, so codes pass only from systems the gateway knows.
import { readOnce } from '../reference-data.js';
import { allKnownCodes } from '../mappings/code-systems.js';

/** External terminologies too large to list here: their codes pass when they have the system's shape. */
const SHAPES: Record<string, RegExp> = {
  'http://snomed.info/sct': /^\d{6,18}$/,
  'http://loinc.org': /^(L[APG])?\d{1,8}-\d$/,
  'http://hl7.org/fhir/sid/icpc-2': /^[A-Z]\d{2}(\.\d{1,2})?$/,
  'http://hl7.org/fhir/sid/icd-10': /^[A-Z]\d{2}(\.\d{1,4})?$/,
  'http://hl7.org/fhir/sid/icd-10-nl': /^[A-Z]\d{2}(\.\d{1,4})?$/,
  'http://www.whocc.no/atc': /^[A-Z](\d{2}([A-Z]([A-Z](\d{2})?)?)?)?$/,
  'http://unitsofmeasure.org': /^[A-Za-z0-9/.%{}[\]*^'-]{1,20}$/,
  'urn:iso:std:iso:3166': /^[A-Z]{2,3}$/,
  'urn:ietf:bcp:47': /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/,
};

/** A nine-digit number that passes the BSN 11-test: never let through as a code or number, whatever its system. */
export function bsnLike(code: string): boolean {
  if (!/^\d{9}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(code[i]);
  return (sum - Number(code[8])) % 11 === 0;
}

// The Verhoeff tables (SNOMED CT identifiers end with a Verhoeff check digit).
const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
/** Verhoeff's permutations: the first moves each digit as below, each next one applies it once more. */
const VERHOEFF_P: number[][] = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]];
for (let i = 1; i < 8; i++)
  VERHOEFF_P.push(VERHOEFF_P[i - 1]!.map((d) => [1, 5, 7, 6, 2, 8, 3, 0, 9, 4][d]!));

/** Whether a digit string ends with its Verhoeff check digit. */
function verhoeffValid(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++)
    c = VERHOEFF_D[c]![VERHOEFF_P[i % 8]![Number(digits[digits.length - 1 - i])]!]!;
  return c === 0;
}

/** Whether a LOINC code's number part and check digit agree (LOINC's mod 10 check: Luhn over the number part). */
function loincCheckValid(code: string): boolean {
  const m = /^(\d{1,8})-(\d)$/.exec(code);
  if (!m) return false;
  let sum = 0;
  const digits = m[1]!;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return (10 - (sum % 10)) % 10 === Number(m[2]);
}

/** The check a code of these systems must pass besides its shape: a made-up number fails it. */
const CHECKS: Record<string, (code: string) => boolean> = {
  'http://snomed.info/sct': verhoeffValid,
  // Answer, part and group codes (LA, LP, LG) have a shape only.
  'http://loinc.org': (code) => /^L[APG]/.test(code) || loincCheckValid(code),
};

/** Whether a Coding's system and code may pass pseudonymisation. */
export function codingPasses(system: unknown, code: unknown): boolean {
  if (typeof system !== 'string' || typeof code !== 'string' || bsnLike(code)) return false;
  const shape = SHAPES[system];
  if (shape) return shape.test(code) && (CHECKS[system]?.(code) ?? true);
  return allKnownCodes().get(system)?.has(code) ?? false;
}

/**
 * Whether a value that would pass (a code, a number) carries a BSN: one of the persons' BSNs among its digits
 * (separators ignored), or nine digits that pass the 11-test.
 */
export function carriesBsn(value: unknown, bsns: readonly string[]): boolean {
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  const digits = String(value).replace(/\D/g, '');
  return bsnLike(digits) || (digits.length >= 9 && bsns.some((b) => digits.includes(b)));
}

/**
 * Whether a bare `code` value (a status, a gender) may pass: it must be a code of some CodeSystem the gateway knows,
 * since its required binding is not checked here.
 */
export function codePasses(code: unknown): boolean {
  if (typeof code !== 'string' || bsnLike(code)) return false;
  return everyCode().has(code);
}

/** Every code of every CodeSystem the gateway knows, whatever its system. */
const everyCode = readOnce((): ReadonlySet<string> => {
  const codes = new Set<string>();
  for (const system of allKnownCodes().values()) for (const c of system) codes.add(c);
  return codes;
});

/** Whether a code belongs to a CodeSystem the gateway knows (HL7, FHIR R4 or its own), e.g. a purpose of use. */
export function isKnownCode(system: string | undefined, code: string | undefined): boolean {
  return system !== undefined && code !== undefined && (allKnownCodes().get(system)?.has(code) ?? false);
}
