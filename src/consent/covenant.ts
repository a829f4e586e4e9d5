// Regional covenants (FHIR Contract): which partners exchange which data categories for which purposes. A covenant
// only narrows what a consent or a legal basis permits; it never grants anything by itself.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Contract, Reference } from '@medplum/fhirtypes';
import { AGENCY_ROLE_SYSTEM } from './constants.js';
import { loadCatalogue, type LegalBasisEntry } from './catalogue.js';
import type { PersonBasis, PersonFacts } from './consenters.js';
import type { DataItem } from './provisions.js';
import type { Covenant, DecisionRequest, Reason } from './types.js';
import { inPeriod } from '../time/amsterdam.js';

export type { Covenant };
type CovenantTerm = Covenant['terms'][number];

const codesOf = (concepts: { coding?: { code?: string }[] }[] | undefined): string[] =>
  (concepts ?? []).flatMap((cc) => (cc.coding ?? []).flatMap((c) => (c.code ? [c.code] : [])));

function recipientOf(ref: Reference): CovenantTerm['recipient'] {
  if (ref.reference) return { reference: ref.reference };
  if (ref.identifier?.system === AGENCY_ROLE_SYSTEM) return { role: ref.identifier.value };
  return {};
}

/**
 * Reads a Contract as a covenant: signers, applies, and per term the recipients, purposes (action.intent) and
 * categories (asset.type). A covenant that cannot be read whole is an error (at start-up), never a silent blanket rule.
 */
export function covenantFrom(contract: Contract, knownCategories?: Set<string>): Covenant {
  const name = contract?.id ?? '(no id)';
  const fail = (why: string) => new Error(`covenant ${name}: ${why}`);
  if (contract?.resourceType !== 'Contract' || !contract.id)
    throw fail('a covenant is a FHIR Contract with an id');
  const parties = (contract.signer ?? []).flatMap((s) => (s.party?.reference ? [s.party.reference] : []));
  if (parties.length === 0) throw fail('no signer.party names an organisation');
  const terms = (contract.term ?? []).flatMap((term, i) => {
    const purposes = codesOf((term.action ?? []).map((a) => a.intent));
    const categories = codesOf((term.asset ?? []).flatMap((a) => a.type ?? []));
    const recipients = (term.offer?.party ?? []).flatMap((p) => p.reference ?? []).map(recipientOf);
    if (recipients.length === 0 || recipients.some((r) => !r.reference && !r.role))
      throw fail(`term[${i}] names no recipient (offer.party.reference: an Organization or an agency role)`);
    if (purposes.length === 0) throw fail(`term[${i}] names no purpose (action.intent)`);
    if (categories.length === 0) throw fail(`term[${i}] names no data category (asset.type)`);
    const unknown = categories.filter((c) => knownCategories && !knownCategories.has(c));
    if (unknown.length) throw fail(`term[${i}] names unknown data categories: ${unknown.join(', ')}`);
    return recipients.map((recipient) => ({ recipient, purposes, categories }));
  });
  if (terms.length === 0) throw fail('no term says who may receive what');
  return {
    reference: `Contract/${contract.id}`,
    title: contract.title ?? contract.name ?? contract.id,
    start: contract.applies?.start,
    end: contract.applies?.end,
    parties,
    terms,
  };
}

const cache = new Map<string, Covenant[]>();

/** The covenants of the region: every Contract-*.json in a folder (read once per folder; an unreadable one throws). No folder: none. */
export function loadCovenants(dir: string): Covenant[] {
  if (!dir) return [];
  let found = cache.get(dir);
  if (!found) {
    found = readdirSync(dir)
      .filter((f) => f.startsWith('Contract-') && f.endsWith('.json'))
      .sort()
      .map((f) => {
        let contract: Contract;
        try {
          contract = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Contract;
        } catch (err) {
          throw new Error(`covenant ${f}: ${err instanceof Error ? err.message : String(err)}`, {
            cause: err,
          });
        }
        return covenantFrom(contract, new Set(loadCatalogue().categories.keys()));
      });
    cache.set(dir, found);
  }
  return found;
}

/** Whether a covenant applies at a moment: a date-only start or end is a whole (Dutch) day. */
function inForce(c: Covenant, at: Date): boolean {
  return inPeriod({ start: c.start, end: c.end }, at);
}

/** What the covenants of the region allow for this request: the categories, or a reason when it is outside all of them. */
export type CovenantScope =
  { outside: false; categories?: Set<string>; covenants: string[] } | { outside: true; reason: Reason };

/**
 * Intersects a request with the region's covenants. No covenants: nothing to narrow. A legal basis that overrides
 * regional agreements (`overridesCovenant` in the catalogue: statutory duties and reports) is not narrowed either.
 * Otherwise the sender must sign a covenant in force that has a term for the recipient and the purpose; the
 * categories of all such terms are what may be disclosed.
 */
export function covenantScope(
  covenants: Covenant[],
  req: DecisionRequest,
  at: Date,
  entry?: LegalBasisEntry,
): CovenantScope {
  if (covenants.length === 0 || (entry && !entry.consentRequired && entry.overridesCovenant))
    return { outside: false, covenants: [] };
  const sender = req.senderOrg ?? req.requesterOrg;
  const purpose = req.purpose.code ?? '';
  const categories = new Set<string>();
  const used: string[] = [];
  for (const c of covenants) {
    if (!inForce(c, at) || !c.parties.includes(sender)) continue;
    const terms = c.terms.filter(
      (t) =>
        (t.recipient.reference === req.recipientOrg ||
          (t.recipient.role !== undefined && t.recipient.role === req.recipientRole)) &&
        t.purposes.includes(purpose),
    );
    if (terms.length === 0) continue;
    used.push(c.reference);
    terms.forEach((t) => t.categories.forEach((x) => categories.add(x)));
  }
  if (used.length === 0)
    return {
      outside: true,
      reason: {
        code: 'covenant-outside',
        params: { sender, recipient: req.recipientOrg, purpose },
      },
    };
  return { outside: false, categories, covenants: used };
}

/** A basis narrowed to the covenant's categories: data of any other category is not disclosed, whatever the basis. */
export function withinCovenant(
  basisFor: (person: PersonFacts, item?: DataItem) => PersonBasis,
  categories: Set<string>,
  covenants: string[],
): (person: PersonFacts, item?: DataItem) => PersonBasis {
  return (person, item) => {
    const basis = basisFor(person, item);
    if (basis.verdict !== 'permit' || !item) return basis;
    const outside = item.categories.filter((c) => !categories.has(c));
    if (outside.length === 0) return basis;
    return {
      verdict: 'deny',
      consents: [],
      reason: {
        code: 'covenant-category',
        params: { categories: outside.join(', '), covenants: covenants.join(', ') },
      },
    };
  };
}
