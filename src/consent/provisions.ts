// Consent provisions: which rule of a Consent applies to a request (and a piece of data); the most specific wins.
import type { Coding, Consent, ConsentProvision, Identifier } from '@medplum/fhirtypes';
import { partiesAndActionsApply } from './actions.js';
import { AGENCY_ROLE_SYSTEM } from './constants.js';
import { matchesConsentCategory, sameCoding } from './consent-scope.js';
import type { DecisionRequest } from './types.js';
import { inPeriod } from '../time/amsterdam.js';

/** One piece of data being decided: its type, categories, labels, date and reference. */
export interface DataItem {
  resourceType?: string;
  categories: string[];
  labels: Coding[];
  sensitive: string[];
  date?: string;
  reference?: string;
  /** The codings the data carries (its code, category, type), matched against provision.code. */
  codes?: Coding[];
}

export type Verdict = 'permit' | 'deny';

/** true, false, or undefined when the data needed to tell are absent. */
type Tri = boolean | undefined;

function sameIdentifier(a: Identifier | undefined, list: Identifier[] | undefined): boolean {
  return !!a?.value && (list ?? []).some((b) => b.value === a.value && (!a.system || a.system === b.system));
}

export function actorMatches(provision: ConsentProvision, req: DecisionRequest): boolean {
  if (!provision.actor?.length) return true;
  return provision.actor.some((actor) => {
    const ref = actor.reference;
    // A reference may name its target by identifier too (a practitioner outside the directory: UZI, BIG, AGB).
    if (ref.reference)
      return ref.reference === req.recipientOrg || sameIdentifier(ref.identifier, req.recipientIdentifiers);
    if (ref.identifier?.system === AGENCY_ROLE_SYSTEM) return ref.identifier.value === req.recipientRole;
    return sameIdentifier(ref.identifier, req.recipientIdentifiers);
  });
}

function codingMatches(wanted: Coding[] | undefined, value: string | undefined): boolean {
  if (!wanted?.length) return true;
  return wanted.some((c) => c.code === value);
}

/** Data-level restrictions: class, code, securityLabel, dataPeriod, data. Undefined where the item cannot tell. */
function dataMatches(p: ConsentProvision, item: DataItem): Tri {
  const checks: Tri[] = [];
  if (p.class?.length)
    checks.push(
      item.resourceType === undefined ? undefined : p.class.some((c) => c.code === item.resourceType),
    );
  if (p.code?.length)
    checks.push(
      p.code.some((cc) =>
        (cc.coding ?? []).some(
          (c) =>
            c.code !== undefined &&
            (item.categories.includes(c.code) || (item.codes ?? []).some((x) => sameCoding(c, x))),
        ),
      ),
    );
  if (p.securityLabel?.length)
    checks.push(p.securityLabel.some((l) => item.labels.some((x) => x.code === l.code)));
  if (p.dataPeriod)
    checks.push(item.date === undefined ? undefined : inPeriod(p.dataPeriod, new Date(item.date)));
  if (p.data?.length)
    checks.push(
      item.reference === undefined ? undefined : p.data.some((d) => d.reference.reference === item.reference),
    );
  if (checks.includes(false)) return false;
  if (checks.includes(undefined)) return undefined;
  return true;
}

function hasDataRestriction(p: ConsentProvision): boolean {
  return !!(p.class?.length || p.code?.length || p.securityLabel?.length || p.dataPeriod || p.data?.length);
}

/** The categories (and labels) a provision names explicitly: a sensitive category must be among them. */
function namesSensitive(p: ConsentProvision, category: string, labels: Coding[]): boolean {
  const byCode = (p.code ?? []).some((cc) => (cc.coding ?? []).some((c) => c.code === category));
  const byLabel = (p.securityLabel ?? []).some((l) => labels.some((x) => x.code === l.code));
  return byCode || byLabel;
}

interface Match {
  type: Verdict;
  depth: number;
  path: ConsentProvision[];
}

/**
 * Walks the provision tree: a node applies when every restriction it has matches; its children are exceptions.
 * The deepest applying node decides; at equal depth a deny beats a permit. Without an item (a request-level
 * question) the root's data restrictions describe its scope and nested data-specific exceptions do not apply.
 * With an item, data the item cannot tell about count as matching for a deny and not matching for a permit.
 */
function walk(
  node: ConsentProvision,
  type: Verdict,
  depth: number,
  req: DecisionRequest,
  at: Date,
  item: DataItem | undefined,
  path: ConsentProvision[],
): Match | undefined {
  if (!inPeriod(node.period, at)) return undefined;
  if (!partiesAndActionsApply(node, type, req, actorMatches(node, req))) return undefined;
  // Without a purpose (a LEAP question may name none) a permit for named purposes does not apply; a deny does.
  if (!codingMatches(node.purpose, req.purpose.code) && !(req.purpose.code === undefined && type === 'deny'))
    return undefined;
  if (item) {
    const data = dataMatches(node, item);
    if (data === false || (data === undefined && type === 'permit')) return undefined;
  } else if (depth > 0 && hasDataRestriction(node)) {
    return undefined;
  }
  const here = [...path, node];
  let best: Match = { type, depth, path: here };
  for (const child of node.provision ?? []) {
    const childType: Verdict = child.type ?? (type === 'permit' ? 'deny' : 'permit');
    const m = walk(child, childType, depth + 1, req, at, item, here);
    if (m && (m.depth > best.depth || (m.depth === best.depth && m.type === 'deny'))) best = m;
  }
  return best;
}

/** What one Consent says about this request (and item): permit, deny, or nothing (undefined). */
export function evaluateConsent(
  consent: Consent,
  req: DecisionRequest,
  at: Date,
  item?: DataItem,
): Verdict | undefined {
  const root = consent.provision;
  if (!root?.type) return undefined;
  if (!matchesConsentCategory(consent, req.consentCategories)) return undefined;
  const match = walk(root, root.type, 0, req, at, item, []);
  if (!match) return undefined;
  if (match.type === 'permit' && item?.sensitive.length) {
    // Sensitive data pass only where the permitting rule (or one above it) names them.
    const named = item.sensitive.every((category) =>
      match.path.some((p) => namesSensitive(p, category, item.labels)),
    );
    if (!named) return undefined;
  }
  return match.type;
}

/**
 * The data-level exceptions under a Consent that permits a request: nested deny provisions restricted by security
 * label, class or code that apply to the request's recipient, action, purpose and moment. A request-level decision
 * leaves them out; they are what would be redacted (LEAP's REDACT obligations without content).
 */
export function dataLevelDenials(consent: Consent, req: DecisionRequest, at: Date): ConsentProvision[] {
  const found: ConsentProvision[] = [];
  const visit = (node: ConsentProvision, type: Verdict): void => {
    for (const child of node.provision ?? []) {
      const childType: Verdict = child.type ?? (type === 'permit' ? 'deny' : 'permit');
      // The same request-level checks as walk(): a data-level exception below a node that does not apply is moot.
      const purposeOk =
        codingMatches(child.purpose, req.purpose.code) ||
        (req.purpose.code === undefined && childType === 'deny');
      if (!inPeriod(child.period, at) || !purposeOk) continue;
      if (!partiesAndActionsApply(child, childType, req, actorMatches(child, req))) continue;
      if (!hasDataRestriction(child)) visit(child, childType);
      else if (childType === 'deny') found.push(child);
    }
  };
  const root = consent.provision;
  if (root?.type === 'permit' && matchesConsentCategory(consent, req.consentCategories))
    visit(root, 'permit');
  return found;
}
