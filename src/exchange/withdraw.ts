// Withdrawing a consent: it becomes inactive at once, with the moment of withdrawal recorded, and the deliveries
// queued on it are cancelled in the same transaction.
import type { Consent } from '@medplum/fhirtypes';
import type { Principal } from '../auth/access.js';
import { audit } from '../audit/record.js';
import { unknownResource } from '../fhir/outcomes.js';
import { canSee } from '../person-index/records.js';
import type { Database } from '../store/database.js';
import { readResource, updateResource } from '../store/resources.js';
import { cancelJobsResting } from './job-records.js';

export const WITHDRAWN_AT_URL = 'https://ketenpoort.nl/fhir/StructureDefinition/consent-withdrawn-at';

/** Withdraws Consent/{id} at `now`; the consent as it is afterwards. */
export async function withdrawConsent(
  db: Database,
  principal: Principal,
  id: string,
  now: Date,
): Promise<Consent> {
  return db.transaction(async (tx) => {
    const current = await readResource<Consent>(tx, 'Consent', id, { forUpdate: true });
    if (!current || !(await canSee(tx, principal, 'Consent', id))) throw unknownResource(`Consent/${id}`);
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
}
