// GET /fhir/Patient/$permissions: for a person, which organisations may receive which categories for which purposes,
// on which consents, until when — for privacy officers, the organisation that registered the person's consents, the
// young person from 12 and gezag holders of a child under 16. FHIR Parameters, or a Dutch page (Accept: text/html).
import type { ParametersParameter } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { BSN_SYSTEM } from '../../consent/constants.js';
import type { HttpContext } from '../context.js';
import { principalOf, sendFhir, sendHtml, wantsHtml } from '../http.js';
import { badRequest } from '../../fhir/outcomes.js';
import { permissionsHtml } from '../permissions-page.js';
import { directory, permissionsOverview, type PermissionLine } from '../../exchange/permissions.js';
import { askedBsn } from './access-report.js';
import { defineOperation } from '../define-operation.js';
import { param, personIdentifier } from '../operation-spec.js';

const DATA_CATEGORY = 'https://ketenpoort.nl/fhir/CodeSystem/data-category';

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
    throw badRequest(
      'sender moet één verwijzing naar een Organization zijn / sender must be one Organization reference',
    );
  const lines = await permissionsOverview(ctx, principal, bsn, asked, at);
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
