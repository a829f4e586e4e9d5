// Minimisation: what leaves the gateway is only what the basis covers, masked or pseudonymised where it says so.
import { createHmac } from 'node:crypto';
import type { Bundle, BundleEntry, Coding, Identifier, Resource } from '@medplum/fhirtypes';
import { BSN_SYSTEM, PSEUDONYM_SYSTEM } from './constants.js';

export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const OBLIGATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy';

export function pseudonym(bsn: string, key: string): string {
  return createHmac('sha256', key).update(bsn).digest('base64url').slice(0, 22);
}

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

/** Replaces every BSN by a keyed pseudonym, drops narrative and direct identifiers, and keeps only the birth year. */
export function pseudonymise(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((v) => pseudonymise(v, key));
  if (!value || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (record.system === BSN_SYSTEM && typeof record.value === 'string') {
    return { ...(record as Identifier), system: PSEUDONYM_SYSTEM, value: pseudonym(record.value, key) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (['text', 'name', 'address', 'telecom', 'photo', 'contact', 'display'].includes(k)) continue;
    if (k === 'birthDate' && typeof v === 'string') out[k] = v.slice(0, 4);
    else out[k] = pseudonymise(v, key);
  }
  return out;
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
