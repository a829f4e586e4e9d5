// POST /fhir/Consent/{id}/$withdraw: the consent becomes inactive at once, with the moment of withdrawal recorded.
import type { Consent } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { readResource, updateResource } from '../../store/resources.js';
import type { HttpContext } from '../context.js';
import { principalOf, sendFhir } from '../http.js';
import { audit } from '../../audit/record.js';
import { notFound } from '../../fhir/outcomes.js';
import { canSee } from '../../person-index/records.js';
import { cancelJobsResting } from '../../exchange/delivery.js';
import { defineOperation } from '../define-operation.js';

export const WITHDRAWN_AT_URL = 'https://ketenpoort.nl/fhir/StructureDefinition/consent-withdrawn-at';

export async function withdrawConsent(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const id = String(req.params.id);
  const now = ctx.clock();
  const withdrawn = await ctx.db.transaction(async (tx) => {
    const current = await readResource<Consent>(tx, 'Consent', id, { forUpdate: true });
    if (!current || !(await canSee(tx, principal, 'Consent', id)))
      throw notFound(`Consent/${id} is not known`);
    // Withdrawing what is already withdrawn changes nothing: the first moment of withdrawal stands.
    if (current.resource.status === 'inactive') return current.resource;
    const at = now.toISOString();
    const consent: Consent & { id: string } = {
      ...current.resource,
      id,
      status: 'inactive',
      extension: [
        ...(current.resource.extension ?? []).filter((e) => e.url !== WITHDRAWN_AT_URL),
        { url: WITHDRAWN_AT_URL, valueDateTime: at },
      ],
    };
    const stored = await updateResource(tx, consent, null, now);
    const cancelled = await cancelJobsResting(
      tx,
      `Consent/${id}`,
      `Cancelled: Consent/${id} was withdrawn at ${at}, before delivery.`,
      now,
    );
    await audit(tx, principal, {
      details: { cancelledDeliveries: String(cancelled) },
      subtype: 'withdraw',
      outcome: 'success',
      description: `Consent/${id} withdrawn at ${at}`,
      patient: { reference: consent.patient?.reference },
      entities: [{ reference: `Consent/${id}` }],
      recorded: now,
    });
    return stored;
  });
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
  handler: withdrawConsent,
});
