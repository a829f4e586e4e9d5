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
