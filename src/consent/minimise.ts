// Minimisation: what leaves the gateway is only what the basis covers, masked or pseudonymised where it says so.
import type { Bundle, BundleEntry, Coding, Resource } from '@medplum/fhirtypes';

// Pseudonymisation is an allow-list of its own (src/consent/pseudonymise.ts); minimisation applies it.
export { pseudonymiseBundle, receivesPseudonymsOnly } from './pseudonymise.js';

export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const OBLIGATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy';

/** Removes the named elements ("Patient.name") from a resource of that type; returns the paths it removed. */
export function mask(resource: Resource, paths: string[]): string[] {
  const removed: string[] = [];
  const record = resource as unknown as Record<string, unknown>;
  for (const path of paths) {
    const [type, element] = path.split('.');
    if (type === resource.resourceType && element && record[element] !== undefined) {
      delete record[element];
      removed.push(path);
    }
  }
  return removed;
}

export function withLabels<T extends Resource>(resource: T, labels: Coding[]): T {
  const existing = resource.meta?.security ?? [];
  const seen = new Set(existing.map((l) => `${l.system}|${l.code}`));
  const added = labels.filter((l) => !seen.has(`${l.system}|${l.code}`));
  if (added.length === 0) return resource;
  return { ...resource, meta: { ...resource.meta, security: [...existing, ...added] } };
}

export function labelledBundle(payload: Bundle, entries: BundleEntry[], labels: Coding[]): Bundle {
  return withLabels({ ...payload, id: undefined, entry: entries }, [
    { system: CONFIDENTIALITY_SYSTEM, code: 'R', display: 'restricted' },
    ...labels,
  ]);
}
