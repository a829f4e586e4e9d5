// Disputed facts go to the privacy officer: one review Task per dispute, however many decisions run into it.
import { createHash } from 'node:crypto';
import type { Task } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../store/database.js';
import { createResource, findByUniqueKey } from '../store/resources.js';
import { openDisputes } from '../store/index-queries.js';
import { TASK_CODE_SYSTEM } from '../consent/constants.js';
import type { DisputedFact } from '../consent/types.js';
import type { FactConflict } from './registrations.js';

/** The organisation a Task is kept under when the gateway itself raises it: only privacy officers see it. */
export const GATEWAY_ORG = 'Organization/ketenpoort';

const LABEL: Record<FactConflict['fact'], { en: string; nl: string }> = {
  birthDate: { en: 'birth date', nl: 'geboortedatum' },
  parentalAuthority: { en: 'parental authority', nl: 'gezag' },
  family: { en: 'family members', nl: 'gezinsleden' },
};

function keyOf(conflict: FactConflict): string {
  const digest = createHash('sha256').update(JSON.stringify(conflict.values)).digest('hex').slice(0, 32);
  return `registration-conflict|${conflict.fact}|${conflict.about}|${digest}`;
}

/** The review Task of one dispute: which fact, about whom, what each registration says. */
export function conflictTask(conflict: FactConflict, subjectRef: string | undefined, now: Date): Task {
  const label = LABEL[conflict.fact];
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: {
      coding: [
        { system: TASK_CODE_SYSTEM, code: 'registration-conflict', display: 'Registrations disagree' },
      ],
    },
    description:
      `De registraties spreken elkaar tegen over: ${label.nl}. ` +
      `Registrations disagree on: ${label.en}. Decisions that rely on it are denied until this is settled.`,
    for: subjectRef ? { reference: subjectRef } : undefined,
    authoredOn: now.toISOString(),
    restriction: { period: { end: new Date(now.getTime() + 7 * 24 * 3600 * 1000).toISOString() } },
    input: [
      { type: { text: 'fact' }, valueCode: conflict.fact },
      { type: { text: 'about' }, valueString: conflict.about },
      ...conflict.values.map((value) => ({ type: { text: 'registration' }, valueString: value })),
    ],
  };
}

/**
 * The facts still in dispute about these persons or families (BSNs, family identifiers): a dispute holds until a
 * privacy officer has settled its Task, even when the registrations agree again in the meantime, so that changing a
 * registration back and forth cannot be used to find out what another organisation registered.
 */
export async function unsettledDisputes(db: Queryable, about: string[]): Promise<DisputedFact[]> {
  if (about.length === 0) return [];
  return (await openDisputes(db, about)) as DisputedFact[];
}

/**
 * Raises a review Task for each dispute that has none yet, authored at `now`; a dispute raised concurrently is raised
 * once.
 */
export async function reportConflicts(
  db: Queryable | Database,
  conflicts: FactConflict[],
  subjectRef: string | undefined,
  now: Date,
): Promise<void> {
  for (const conflict of conflicts) {
    const key = keyOf(conflict);
    if (await findByUniqueKey(db, key)) continue;
    const create = (tx: Queryable) =>
      createResource(tx, conflictTask(conflict, subjectRef, now), GATEWAY_ORG, key, now);
    try {
      await ('transaction' in db ? db.transaction(create) : create(db));
    } catch (err) {
      // Another decision raised the same dispute a moment ago: the unique key keeps it to one Task.
      if (!(await findByUniqueKey(db, key))) throw err;
    }
  }
}
