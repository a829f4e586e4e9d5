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

/** A nine-digit number that passes the BSN 11-test: never let through as a code, whatever its system. */
function bsnLike(code: string): boolean {
  if (!/^\d{9}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(code[i]);
  return (sum - Number(code[8])) % 11 === 0;
}

/** Whether a Coding's system and code may pass pseudonymisation. */
export function codingPasses(system: unknown, code: unknown): boolean {
  if (typeof system !== 'string' || typeof code !== 'string' || bsnLike(code)) return false;
  const shape = SHAPES[system];
  if (shape) return shape.test(code);
  return allKnownCodes().get(system)?.has(code) ?? false;
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
