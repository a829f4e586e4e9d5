// The security labelling service: a Bundle's entries labelled with the gateway's own classification table
// (src/consent/classify.ts), so an agency can ask "how sensitive is this" before it sends. A thin layer: the labels
// are exactly those classify() gives the consent engine, plus the confidentiality they amount to.
import type { Bundle, BundleEntry, Coding, Resource } from '@medplum/fhirtypes';
import { DATA_CATEGORY_SYSTEM, loadCatalogue } from '../consent/catalogue.js';
import { classify } from '../consent/classify.js';
import { CONFIDENTIALITY_SYSTEM, withLabels } from '../consent/minimise.js';

export interface LabelledEntry {
  entry: BundleEntry;
  resource: Resource;
  categories: Coding[];
  labels: Coding[];
  sensitive: boolean;
  /** Whether labelling added a label the resource did not carry. */
  changed: boolean;
}

/** Restricted (R) for data a basis must name explicitly, normal (N) otherwise. */
export function confidentialityOf(sensitive: boolean): Coding {
  return sensitive
    ? { system: CONFIDENTIALITY_SYSTEM, code: 'R', display: 'restricted' }
    : { system: CONFIDENTIALITY_SYSTEM, code: 'N', display: 'normal' };
}

/** Each entry with a resource, labelled: its sensitivity labels and its confidentiality in meta.security. */
export function labelEntries(bundle: Bundle): LabelledEntry[] {
  const catalogue = loadCatalogue();
  return (bundle.entry ?? [])
    .filter((e): e is BundleEntry & { resource: Resource } => !!e?.resource && typeof e.resource === 'object')
    .map((entry) => {
      const c = classify(entry.resource, catalogue);
      const sensitive = c.sensitive.length > 0;
      const hasConfidentiality = (entry.resource.meta?.security ?? []).some(
        (l) => l.system === CONFIDENTIALITY_SYSTEM,
      );
      const labels = [...c.labels, ...(hasConfidentiality ? [] : [confidentialityOf(sensitive)])];
      const resource = withLabels(entry.resource, labels);
      return {
        entry,
        resource,
        categories: c.categories.map((code) => ({ system: DATA_CATEGORY_SYSTEM, code })),
        labels: resource.meta?.security ?? [],
        sensitive,
        changed: resource !== entry.resource,
      };
    });
}

/** LEAP's bundle-security-label answer: no cards, one update action per resource that got a label. */
export function labelHookResponse(bundle: Bundle) {
  return {
    cards: [],
    systemActions: labelEntries(bundle)
      .filter((x) => x.changed)
      .map((x) => ({ type: 'update', description: 'labeled resource', resource: x.resource })),
  };
}
