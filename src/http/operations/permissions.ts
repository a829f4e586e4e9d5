// GET /fhir/Patient/$permissions: for a person, which organisations may receive which categories for which purposes,
// on which consents, until when — for privacy officers, the organisation that registered the person's consents, the
// young person from 12 and gezag holders of a child under 16. FHIR Parameters, or a Dutch page (Accept: text/html).
import type { Organization, ParametersParameter } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { BSN_SYSTEM } from '../../consent/constants.js';
import { readResource } from '../../store/resources.js';
import type { Principal } from '../../auth/access.js';
import type { HttpContext } from '../context.js';
import { loadFacts, type Subject } from '../../person-index/facts.js';
import { principalOf, sendFhir, sendHtml, wantsHtml } from '../http.js';
import { audit } from '../../audit/record.js';
import { badRequest, forbidden, notFound } from '../../fhir/outcomes.js';
import { permissionsHtml } from '../permissions-page.js';
import {
  directory,
  permissionsOf,
  senderPrincipal,
  type PermissionLine,
} from '../../exchange/permissions.js';
import { askedBsn, mayRead } from './access-report.js';
import { defineOperation } from '../define-operation.js';
import { param, personIdentifier } from '../operation-spec.js';

const DATA_CATEGORY = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';

/** The organisations that registered consents about the person: they arrange consent (the coordinating ones). */
async function consentRegistrars(ctx: HttpContext, subject: Subject): Promise<string[]> {
  const facts = await loadFacts(ctx.db, subject);
  const ids = facts.consents.flatMap((c) => (c.id ? [c.id] : []));
  if (ids.length === 0) return [];
  const rows = await ctx.db.query<{ org: string }>(
    `SELECT DISTINCT org FROM resource_orgs WHERE type = 'Consent' AND id = ANY($1::text[]) ORDER BY org`,
    [ids],
  );
  return rows.map((r) => r.org);
}

async function senders(ctx: HttpContext, principal: Principal, subject: Subject, asked?: string) {
  const registrars = await consentRegistrars(ctx, subject);
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
      type === 'Organization' && id
        ? await readResource<Organization>(ctx.db, 'Organization', id)
        : undefined;
    const sender = org && senderPrincipal(org.resource);
    if (!sender) throw badRequest(`sender must name an agency Organization of the directory`, 'sender');
    found.push(sender);
  }
  return found;
}

function lineParameter(l: PermissionLine): ParametersParameter {
  return {
    name: 'permission',
    part: [
      { name: 'sender', valueReference: { reference: l.sender } },
      { name: 'recipient', valueReference: { reference: l.recipient, display: l.recipientName } },
      {
        name: 'purpose',
        valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: l.purpose },
      },
      ...l.categories.map((code) => ({ name: 'category', valueCoding: { system: DATA_CATEGORY, code } })),
      { name: 'basis', valueCode: l.basis },
      ...l.consents.map((reference) => ({ name: 'consent', valueReference: { reference } })),
      ...(l.until ? [{ name: 'until', valueString: l.until }] : []),
    ],
  };
}

export async function permissions(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const at = ctx.clock();
  const bsn = askedBsn(req);
  const asked = req.query.sender;
  if (asked !== undefined && typeof asked !== 'string')
    throw badRequest('sender must be one Organization reference');
  if (principal.role === 'person' && !(await mayRead(ctx, principal, bsn, at)))
    throw forbidden(
      'U mag het overzicht van uzelf (vanaf 12 jaar) of van uw kind onder de 16 met gezag zien / You may see your own overview (from 12) or that of your child under 16',
    );
  const subject: Subject = { kind: 'person', value: bsn, identifier: { system: BSN_SYSTEM, value: bsn } };
  const lines: PermissionLine[] = [];
  for (const sender of await senders(ctx, principal, subject, asked)) {
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
  if (wantsHtml(req)) {
    const names = new Map((await directory(ctx.db)).map((o) => [`Organization/${o.id}`, o.name ?? o.id!]));
    sendHtml(res, permissionsHtml(bsn, lines, names, at));
    return;
  }
  sendFhir(res, 200, {
    resourceType: 'Parameters',
    parameter: [
      { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: bsn } },
      { name: 'generated', valueDateTime: at.toISOString() },
      ...lines.map(lineParameter),
    ],
  });
}

export const permissionsOperation = defineOperation({
  route: 'GET /fhir/Patient/$permissions',
  permission: 'permissions',
  summary: 'Who may receive what about a person now, and until when (FHIR or Accept: text/html)',
  tag: 'Audit and oversight',
  description:
    'Which organisations may receive which data categories about a person, for which purposes, on which consents and until when.',
  input: [
    personIdentifier,
    param('sender', 'string', 0, '1', 'Organization/<id> that discloses (default: each consent registrar)'),
  ],
  returns: 'Parameters',
  affectsState: false,
  handler: permissions,
});
