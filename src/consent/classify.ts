// Classification of resources into data categories and sensitivity labels, from the table in profiles/rules.
import type { Coding, Resource } from '@medplum/fhirtypes';
import { LIFE_DOMAIN_SYSTEM, type Catalogue } from './catalogue.js';

export interface Classification {
  categories: string[];
  labels: Coding[];
  /** Categories that need explicit naming by the basis. */
  sensitive: string[];
}

function codingsAt(resource: Resource, element: string): Coding[] {
  const value = (resource as unknown as Record<string, unknown>)[element];
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((cc: { coding?: Coding[] }) => cc?.coding ?? []);
}

/** The data categories and labels of one resource; unknown resource types are 'unclassified'. */
export function classify(resource: Resource, catalogue: Catalogue): Classification {
  const categories = new Set<string>();
  for (const rule of catalogue.rules) {
    if (rule.resourceType !== resource.resourceType) continue;
    rule.categories.forEach((c) => categories.add(c));
    if (rule.lifeDomainAt) {
      for (const coding of codingsAt(resource, rule.lifeDomainAt)) {
        if (coding.system === LIFE_DOMAIN_SYSTEM && coding.code) {
          const category = catalogue.lifeDomains.get(coding.code);
          if (category) categories.add(category);
        }
      }
    }
  }
  if (categories.size === 0) categories.add('unclassified');
  const labels = new Map<string, Coding>();
  for (const c of categories)
    for (const l of catalogue.categories.get(c)?.labels ?? []) labels.set(`${l.system}|${l.code}`, l);
  for (const l of resource.meta?.security ?? []) labels.set(`${l.system}|${l.code}`, l);
  const sensitive = [...categories].filter((c) => catalogue.categories.get(c)?.sensitive);
  // A label the resource carries itself (say PSY on an Observation) makes it sensitive too.
  for (const [code, info] of catalogue.categories) {
    if (
      info.sensitive &&
      !categories.has(code) &&
      info.labels.some((l) => labels.has(`${l.system}|${l.code}`))
    )
      sensitive.push(code);
  }
  return { categories: [...categories], labels: [...labels.values()], sensitive };
}
