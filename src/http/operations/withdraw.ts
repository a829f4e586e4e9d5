// POST /fhir/Consent/{id}/$withdraw: the consent becomes inactive at once, with the moment of withdrawal recorded.
import type { Request, Response } from 'express';
import type { HttpContext } from '../context.js';
import { principalOf, sendFhir } from '../http.js';
import { withdrawConsent } from '../../exchange/withdraw.js';
import { defineOperation } from '../define-operation.js';

export async function withdraw(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const withdrawn = await withdrawConsent(ctx.db, principalOf(res), String(req.params.id), ctx.clock());
  sendFhir(res, 200, withdrawn);
}

export const withdrawOperation = defineOperation({
  route: 'POST /fhir/Consent/:id/$withdraw',
  permission: 'person-index:write',
  summary: 'Withdraw a consent (immediately inactive)',
  tag: 'Person index and directory',
  description:
    'Withdraws a consent: it is inactive at once, and queued deliveries relying on it are cancelled.',
  input: [],
  returns: 'Consent',
  affectsState: true,
  handler: withdraw,
});
