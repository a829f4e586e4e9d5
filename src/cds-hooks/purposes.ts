// Several purposes in one question: LEAP permits when a provision matches any requested purpose; a gateway under
// the AVG's purpose limitation permits only what every requested purpose is permitted for (the stricter combiner).
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { Decision, Obligation } from '../consent/types.js';

const entryKey = (e: BundleEntry) => e.fullUrl ?? `${e.resource?.resourceType}/${e.resource?.id}`;

/** Entries kept in every delivered Bundle: data goes out only where each purpose lets it. */
function intersect(bundles: Bundle[]): Bundle | undefined {
  const [first, ...rest] = bundles;
  if (!first) return undefined;
  const keep = (e: BundleEntry) =>
    rest.every((b) => (b.entry ?? []).some((x) => entryKey(x) === entryKey(e)));
  return { ...first, entry: (first.entry ?? []).filter(keep) };
}

/** One decision from one per purpose: a permit only when each is a permit; else the first deny. */
export function combinePurposes(decisions: Decision[]): Decision {
  if (decisions.length === 1) return decisions[0]!;
  const denial = decisions.find((d) => d.decision === 'deny');
  if (denial) return denial;
  const seen = new Set<string>();
  const obligations: Obligation[] = decisions
    .flatMap((d) => d.obligations)
    .filter((o) => {
      const k = `${o.code}|${o.removed ?? ''}|${o.detail}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  const delivered = decisions.every((d) => d.delivered)
    ? intersect(decisions.map((d) => d.delivered!))
    : undefined;
  const union = (pick: (d: Decision) => string[]) => [...new Set(decisions.flatMap(pick))];
  return {
    ...decisions[0]!,
    consents: union((d) => d.consents),
    reasons: decisions.flatMap((d) => d.reasons),
    obligations,
    delivered,
    disclosed: union((d) => d.disclosed).filter((c) => decisions.every((d) => d.disclosed.includes(c))),
    redacted: union((d) => d.redacted),
  };
}
