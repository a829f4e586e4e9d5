// The engine's options from the configuration: age-transition policy, pseudonym key, evidence policy, covenants.
import { loadCovenants } from '../consent/covenant.js';
import type { DecideOptions } from '../consent/types.js';
import type { Config } from '../config.js';

export function decideOptions(config: Config): DecideOptions {
  return {
    ageTransitionPolicy: config.ageTransitionPolicy,
    pseudonymKey: config.pseudonymKey,
    consentEvidence: config.consentEvidencePolicy,
    covenants: loadCovenants(config.covenantsDir),
  };
}

/** Reads the covenants at start-up, so that a folder or covenant that cannot be read stops the start with one line. */
export function checkCovenants(config: Config): number {
  try {
    return loadCovenants(config.covenantsDir).length;
  } catch (err) {
    throw new Error(`configuration: COVENANTS_DIR: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
