// Validation against the Ketenpoort profiles. The base R4 structure is checked by @medplum/core once per resource; the
// profile's own constraints (its differential: cardinality, fixed and pattern values, extension slices with their
// value types) are checked here, straight from the generated StructureDefinitions. @medplum/core can validate against
// a profile too, but parses the StructureDefinition again on every call (≈ 500 resources/s against ≈ 20,000/s).
import { readOnce } from '../reference-data.js';
import type {
  ElementDefinition,
  OperationOutcomeIssue,
  Resource,
  StructureDefinition,
} from '@medplum/fhirtypes';
import { knownCodes } from './code-systems.js';
import { loadStructureDefinitions, PROFILE_BASE } from './profiles.js';
import type { ValidationTier } from './payload-types.js';
import { presentAt } from './structure.js';

const CODE_SYSTEM_BASE = 'https://ketenpoort.nl/fhir/CodeSystem/';

/** The profile a resource is checked against when it names none: one per type the gateway models. */
const DEFAULT_PROFILE: Record<string, string> = {
  Group: 'family',
  Patient: 'child',
  RelatedPerson: 'parent',
  ServiceRequest: 'referral',
  EpisodeOfCare: 'coordination',
  CareTeam: 'care-team',
  CarePlan: 'family-plan',
  Goal: 'life-domain-goal',
  Condition: 'life-domain-problem',
  Consent: 'privacy-consent',
};

interface CompiledProfile {
  url: string;
  type: string;
  rules: ElementDefinition[];
  /** Extension url → the value[x] type its StructureDefinition allows, and the slice's minimum. */
  extensions: { url: string; min: number; valueType: string; sliceName: string }[];
}

/** The Ketenpoort profiles (not the extensions), compiled for the check, by url. */
const profiles = readOnce((): ReadonlyMap<string, CompiledProfile> => {
  const sds = loadStructureDefinitions();
  const byUrl = new Map(sds.map((sd) => [sd.url!, sd]));
  const valueTypeOf = (url: string) =>
    byUrl.get(url)?.snapshot?.element?.find((e) => e.id === 'Extension.value[x]')?.type?.[0]?.code ??
    'unknown';
  return new Map(
    sds
      .filter((sd: StructureDefinition) => sd.type !== 'Extension')
      .map((sd) => {
        const diff = sd.differential?.element ?? [];
        return [
          sd.url!,
          {
            url: sd.url!,
            type: sd.type!,
            rules: diff.filter((e) => !e.sliceName && !e.id?.includes(':')),
            extensions: diff
              .filter((e) => e.sliceName && e.path === `${sd.type}.extension`)
              .map((e) => ({
                url: e.type![0]!.profile![0]!,
                min: e.min ?? 0,
                valueType: valueTypeOf(e.type![0]!.profile![0]!),
                sliceName: e.sliceName!,
              })),
          },
        ];
      }),
  );
});

/**
 * The Ketenpoort profiles that apply: every one named in meta.profile (for the resource's own type), else — for what
 * the gateway keeps (tier `kept`) — the default for the type. Payload resources get no default.
 */
export function profilesFor(resource: Resource, tier: ValidationTier = 'kept'): CompiledProfile[] {
  const all = profiles();
  const claimed = (Array.isArray(resource.meta?.profile) ? resource.meta.profile : []).flatMap((url) => {
    const p = typeof url === 'string' ? all.get(url) : undefined;
    return p && p.type === resource.resourceType ? [p] : [];
  });
  if (claimed.length || tier === 'payload') return claimed;
  const id = DEFAULT_PROFILE[resource.resourceType];
  const fallback = id ? all.get(`${PROFILE_BASE}/${id}`) : undefined;
  return fallback ? [fallback] : [];
}

/** The first profile that applies (kept tier): the escalation check asks which one a Task claims. */
export function profileFor(resource: Resource): CompiledProfile | undefined {
  return profilesFor(resource)[0];
}

/** A profile the resource claims that the gateway does not know: reported, never a refusal. */
function unknownProfiles(resource: Resource, at: string): OperationOutcomeIssue[] {
  const all = profiles();
  return (Array.isArray(resource.meta?.profile) ? resource.meta.profile : [])
    .filter((url) => typeof url === 'string' && !all.has(url))
    .map((url) => ({
      severity: 'information' as const,
      code: 'informational' as const,
      diagnostics: `Het profiel ${url} is niet bekend bij de gateway; de resource is gecontroleerd als R4 met de regels van de gateway / The profile ${url} is not known to the gateway; the resource is checked as base R4 with the gateway's rules`,
      expression: [`${at}.meta.profile`],
    }));
}

function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern))
    return Array.isArray(value) && pattern.every((p) => value.some((v) => matchesPattern(v, p)));
  if (pattern && typeof pattern === 'object')
    return (
      !!value &&
      typeof value === 'object' &&
      Object.entries(pattern).every(([k, p]) => matchesPattern((value as Record<string, unknown>)[k], p))
    );
  return value === pattern;
}

function issue(expression: string, diagnostics: string, code: OperationOutcomeIssue['code'] = 'invariant') {
  return { severity: 'error' as const, code, diagnostics, expression: [expression] };
}

/** Checks a resource (already valid R4) against its Ketenpoort profile; `at` is its location for the issues. */
export function checkProfile(
  resource: Resource,
  at: string = resource.resourceType,
  tier: ValidationTier = 'kept',
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = unknownProfiles(resource, at);
  for (const profile of profilesFor(resource, tier)) {
    const name = profile.url.slice(PROFILE_BASE.length + 1);
    for (const rule of profile.rules) {
      const steps = rule.path!.split('.').slice(1);
      const parents = presentAt(resource, steps.slice(0, -1), at);
      const leaf = steps[steps.length - 1]!;
      for (const parent of parents) {
        const found = presentAt(parent.value, [leaf], parent.at);
        if ((rule.min ?? 0) > found.length)
          issues.push(
            issue(
              `${parent.at}.${leaf}`,
              `${parent.at}.${leaf} is required by the ${name} profile`,
              'required',
            ),
          );
        for (const [kind, test] of [
          ['fixed', (v: unknown, x: unknown) => JSON.stringify(v) === JSON.stringify(x)],
          ['pattern', matchesPattern],
        ] as const) {
          const key = Object.keys(rule).find((k) => k.startsWith(kind) && k !== kind);
          if (!key) continue;
          const expected = (rule as unknown as Record<string, unknown>)[key];
          for (const f of found)
            if (!test(f.value, expected))
              issues.push(
                issue(
                  f.at,
                  `${f.at} must ${kind === 'fixed' ? 'be' : 'match'} ${JSON.stringify(expected)} (${name} profile)`,
                ),
              );
        }
      }
    }
    const extensions = ((resource as { extension?: { url?: string }[] }).extension ?? []) as Record<
      string,
      unknown
    >[];
    for (const slice of profile.extensions) {
      const present = extensions.map((e, i) => ({ e, i })).filter(({ e }) => e.url === slice.url);
      if (present.length < slice.min)
        issues.push(
          issue(`${at}.extension`, `the ${name} profile requires the extension ${slice.url}`, 'required'),
        );
      if (present.length > 1)
        issues.push(issue(`${at}.extension`, `the extension ${slice.url} may occur only once`, 'structure'));
      const key = `value${slice.valueType.charAt(0).toUpperCase()}${slice.valueType.slice(1)}`;
      for (const { e, i } of present)
        if (!(key in e))
          issues.push(
            issue(
              `${at}.extension[${i}]`,
              `the extension ${slice.url} takes a ${slice.valueType} (${key})`,
              'value',
            ),
          );
    }
  }
  issues.push(...checkCodes(resource, at));
  return issues;
}

/** Every coding of a Ketenpoort CodeSystem must use a code that system defines. */
function checkCodes(value: unknown, at: string): OperationOutcomeIssue[] {
  if (!value || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => checkCodes(v, `${at}[${i}]`));
  const o = value as Record<string, unknown>;
  const out: OperationOutcomeIssue[] = [];
  if (typeof o.system === 'string' && o.system.startsWith(CODE_SYSTEM_BASE) && typeof o.code === 'string') {
    const known = knownCodes().get(o.system);
    if (known && !known.has(o.code))
      out.push(issue(`${at}.code`, `"${o.code}" is not a code of ${o.system}`, 'code-invalid'));
  }
  for (const [k, v] of Object.entries(o)) {
    if (k === 'resourceType') continue;
    if (v && typeof v === 'object' && !(k === 'resource')) out.push(...checkCodes(v, `${at}.${k}`));
  }
  return out;
}
