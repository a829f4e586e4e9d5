// What a recipient may receive about a person now, and until when: the forward-looking companion of the access report.
// Each line is the decision $consent-decision would give (the same runDecision), so the two cannot disagree.
import type { Consent, ConsentProvision, Organization } from '@medplum/fhirtypes';
import { ageOn, periodEnd } from '../time/amsterdam.js';
import { loadCovenants } from '../consent/covenant.js';
import { loadCatalogue } from '../consent/catalogue.js';
import type { Config } from '../config.js';
import type { Queryable } from '../store/database.js';
import { readResource, searchResources } from '../store/resources.js';
import type { Database } from '../store/database.js';
import { consentRegistrars } from '../store/index-queries.js';
import { isRole, type Principal } from '../auth/access.js';
import { audit } from '../audit/record.js';
import { BSN_SYSTEM } from '../consent/constants.js';
import { badRequest, forbidden, notFound } from '../fhir/outcomes.js';
import { loadFacts, type Subject } from '../person-index/facts.js';
import { mayRead } from './access-report.js';
import { runDecision } from './decisions.js';
import { roleOf } from './parties.js';

const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
/** The purposes every overview asks about; a consent that names others adds them. */
export const BASE_PURPOSES = ['TREAT', 'CAREMGT', 'HRESCH'];

export interface PermissionLine {
  sender: string;
  recipient: string;
  recipientName: string;
  purpose: string;
  categories: string[];
  basis: 'consent' | 'legal-exception';
  consents: string[];
  /** The moment the permission ends at the latest (a consent's period, the covenant, an age transition), if any. */
  until?: string;
}

function purposesIn(p: ConsentProvision | undefined, out: Set<string>): Set<string> {
  if (!p) return out;
  (p.purpose ?? []).forEach((c) => c.code && out.add(c.code));
  (p.provision ?? []).forEach((child) => purposesIn(child, out));
  return out;
}

/** The earliest of several ends (ISO strings; a date-only end lasts the whole day). */
function earliest(ends: (string | undefined)[]): string | undefined {
  return ends.filter((e): e is string => !!e).sort((a, b) => periodEnd(a) - periodEnd(b))[0];
}

/** The day a child moves to the next age band (12 or 16), when renewal is then required. */
function transitionDay(birthDate: string | undefined, at: Date, config: Config): string | undefined {
  if (!birthDate || config.ageTransitionPolicy !== 'require-renewal') return undefined;
  const age = ageOn(birthDate, at);
  const next = age < 12 ? 12 : age < 16 ? 16 : undefined;
  if (next === undefined) return undefined;
  return `${Number(birthDate.slice(0, 4)) + next}${birthDate.slice(4, 10)}`;
}

export async function directory(db: Queryable): Promise<Organization[]> {
  const found = await searchResources<Organization>(db, {
    type: 'Organization',
    criteria: [],
    count: 1000,
    offset: 0,
    sort: 'asc',
    total: false,
  });
  return found.resources;
}

/** The sender as a principal for runDecision: the organisation that would disclose, with its role. */
export function senderPrincipal(org: Organization): Principal | undefined {
  const role = roleOf(org);
  if (!role || !isRole(role)) return undefined;
  return { clientId: 'permissions', org: `Organization/${org.id}`, role, scope: '' };
}

/**
 * For every other organisation of the directory and every purpose: whether the sender may disclose to it now (the
 * decision of $consent-decision), which data categories, on which consents, and until when. Legal exceptions are not
 * listed: they are never inferred, only decided when a request names one.
 */
export async function permissionsOf(
  db: Queryable,
  config: Config,
  subject: Subject,
  sender: Principal,
  at: Date,
): Promise<PermissionLine[]> {
  const facts = await loadFacts(db, subject);
  const byRef = new Map(facts.consents.map((c): [string, Consent] => [`Consent/${c.id}`, c]));
  const purposes = new Set(BASE_PURPOSES);
  facts.consents.forEach((c) => purposesIn(c.provision, purposes));
  const categories = [...loadCatalogue().categories.keys()];
  const covenantEnd = earliest(
    loadCovenants(config.covenantsDir)
      .filter((c) => c.parties.includes(sender.org))
      .map((c) => c.end),
  );
  const ageEnd = transitionDay(facts.subject?.birthDate, at, config);
  const lines: PermissionLine[] = [];
  for (const org of await directory(db)) {
    const recipient = `Organization/${org.id}`;
    if (recipient === sender.org) continue;
    for (const purpose of [...purposes].sort()) {
      const request = {
        requesterOrg: sender.org,
        requesterRole: sender.role,
        recipientOrg: recipient,
        recipientRole: roleOf(org),
        recipientIdentifiers: org.identifier,
        subjectBsn: subject.value,
        subjectKind: subject.kind,
        purpose: { system: ACT_REASON, code: purpose },
        categories: [] as string[],
      };
      const run = await runDecision({ db, config }, sender, request, subject, { at });
      if (run.decision.decision !== 'permit') continue;
      const detail = await runDecision({ db, config }, sender, { ...request, categories }, subject, { at });
      const consents = run.decision.consents;
      lines.push({
        sender: sender.org,
        recipient,
        recipientName: org.name ?? recipient,
        purpose,
        categories: detail.decision.decision === 'permit' ? detail.decision.disclosed : [],
        basis: run.decision.basis ?? 'consent',
        consents,
        until: earliest([...consents.map((c) => byRef.get(c)?.provision?.period?.end), covenantEnd, ageEnd]),
      });
    }
  }
  return lines;
}

/** The organisations that registered consents about the person: they arrange consent (the coordinating ones). */
async function registrarsOf(db: Queryable, subject: Subject): Promise<string[]> {
  const facts = await loadFacts(db, subject);
  const ids = facts.consents.flatMap((c) => (c.id ? [c.id] : []));
  if (ids.length === 0) return [];
  return consentRegistrars(db, ids);
}

/** Whose disclosures the overview shows: the asked sender's, or else each consent registrar's. */
async function senders(db: Queryable, principal: Principal, subject: Subject, asked?: string) {
  const registrars = await registrarsOf(db, subject);
  if (principal.role !== 'privacy-officer' && principal.role !== 'person') {
    // An agency asks about its own disclosures, and only when it arranged the person's consents.
    if (!registrars.includes(principal.org)) throw notFound();
    return [principal];
  }
  const refs = asked ? [asked] : registrars;
  const found: Principal[] = [];
  for (const ref of refs) {
    const [type, id] = ref.split('/');
    const org =
      type === 'Organization' && id ? await readResource<Organization>(db, 'Organization', id) : undefined;
    const sender = org && senderPrincipal(org.resource);
    if (!sender)
      throw badRequest(
        'sender moet een instelling uit het adresboek noemen (Organization) / sender must name an agency Organization of the directory',
        'sender',
      );
    found.push(sender);
  }
  return found;
}

/**
 * The permissions overview of the person with this BSN as the principal may see it, for the asked sender (an
 * `Organization/<id>`) or each one that applies; the read is audited.
 */
export async function permissionsOverview(
  ctx: { db: Database; config: Config },
  principal: Principal,
  bsn: string,
  asked: string | undefined,
  at: Date,
): Promise<PermissionLine[]> {
  if (principal.role === 'person' && !(await mayRead(ctx.db, principal, bsn, at)))
    throw forbidden(
      'U mag het overzicht van uzelf (vanaf 12 jaar) of van uw kind onder de 16 met gezag zien / You may see your own overview (from 12) or that of your child under 16',
    );
  const subject: Subject = { kind: 'person', value: bsn, identifier: { system: BSN_SYSTEM, value: bsn } };
  const lines: PermissionLine[] = [];
  for (const sender of await senders(ctx.db, principal, subject, asked)) {
    lines.push(...(await permissionsOf(ctx.db, ctx.config, subject, sender, at)));
  }
  await ctx.db.transaction((tx) =>
    audit(tx, principal, {
      subtype: 'read',
      outcome: 'success',
      description: `Permissions overview for BSN ${bsn} (${lines.length} lines)`,
      patient: { bsn },
    }),
  );
  return lines;
}
