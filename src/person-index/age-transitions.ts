// Age transitions: a child who turns 12 or 16 within 30 days needs (also) their own consent. The organisations that
// arranged the child's consents get a Task to renew them, urgent under AGE_TRANSITION_POLICY=require-renewal (the
// consents stop counting on the birthday), routine under keep-until-withdrawn (they stay valid; the young person's own
// voice is asked for). One Task per registration, birthday and organisation; the sweep runs at start-up and every 6 hours.
import type { Patient, Task } from '@medplum/fhirtypes';
import { ageOn, dutchDate } from '../time/amsterdam.js';
import { TASK_CODE_SYSTEM } from '../consent/constants.js';
import type { Config } from '../config.js';
import { GATEWAY_ORG } from './conflicts.js';
import type { Database } from '../store/database.js';
import { createResource, findByUniqueKey } from '../store/resources.js';
import { consentHoldersOf, patientsWithBirthDate } from '../store/index-queries.js';

export const NOTICE_DAYS = 30;
const SWEEP_MS = 6 * 3600 * 1000;
const TRANSITIONS = [12, 16];

/** The day (YYYY-MM-DD) someone born on birthDate turns `age` (29 February counts from 1 March in other years). */
export function birthdayAt(birthDate: string, age: number): string {
  const year = Number(birthDate.slice(0, 4)) + age;
  const monthDay = birthDate.slice(5, 10);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return monthDay === '02-29' && !leap ? `${year}-03-01` : `${year}-${monthDay}`;
}

/** The transition (12 or 16) that falls after today and within NOTICE_DAYS, if any. */
export function upcomingTransition(birthDate: string, now: Date): { age: number; on: string } | undefined {
  if (birthDate.length < 10) return undefined;
  const today = dutchDate(now);
  const horizon = dutchDate(new Date(now.getTime() + NOTICE_DAYS * 24 * 3600 * 1000));
  for (const age of TRANSITIONS) {
    const on = birthdayAt(birthDate, age);
    if (on > today && on <= horizon && ageOn(birthDate, now) === age - 1) return { age, on };
  }
  return undefined;
}

function renewalTask(
  patient: Patient,
  org: string,
  age: number,
  on: string,
  config: Config,
  now: Date,
): Task {
  const renew = config.ageTransitionPolicy === 'require-renewal';
  const who =
    age === 12
      ? { nl: 'de jongere én de gezaghebbende ouders', en: 'the young person and the gezag holders' }
      : { nl: 'de jongere zelf', en: 'the young person alone' };
  const effect = renew
    ? {
        nl: 'de huidige toestemmingen tellen vanaf die dag niet meer',
        en: 'the current consents stop counting on that day',
      }
    : {
        nl: 'de huidige toestemmingen blijven geldig tot intrekking, maar vraag ook de jongere',
        en: 'the current consents stay valid until withdrawn, but ask the young person too',
      };
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: renew ? 'urgent' : 'routine',
    code: {
      coding: [
        { system: TASK_CODE_SYSTEM, code: 'consent-renewal', display: 'Renew consent at an age transition' },
      ],
    },
    description:
      `Wordt ${age} op ${on}: toestemming nodig van ${who.nl}; ${effect.nl}. / ` +
      `Turns ${age} on ${on}: consent is needed from ${who.en}; ${effect.en}.`,
    for: { reference: `Patient/${patient.id}` },
    requester: { reference: GATEWAY_ORG },
    owner: { reference: org },
    authoredOn: now.toISOString(),
    restriction: { period: { end: on } },
    input: [
      { type: { text: 'birthday' }, valueDate: on },
      { type: { text: 'age' }, valueInteger: age },
      { type: { text: 'policy' }, valueCode: config.ageTransitionPolicy },
    ],
  };
}

/** Raises the renewal Tasks due now; returns how many it created. Raising twice creates nothing new. */
export async function sweepAgeTransitions(db: Database, config: Config, now = new Date()): Promise<number> {
  let created = 0;
  for (const patient of await patientsWithBirthDate(db)) {
    const due = upcomingTransition(patient.birthDate!, now);
    if (!due) continue;
    for (const org of await consentHoldersOf(db, `Patient/${patient.id}`, GATEWAY_ORG)) {
      const key = `age-transition|${patient.id}|${due.on}|${org}`;
      if (await findByUniqueKey(db, key)) continue;
      try {
        await db.transaction((tx) =>
          createResource(tx, renewalTask(patient, org, due.age, due.on, config, now), org, key, now),
        );
        created++;
      } catch (err) {
        // A sweep of another instance raised it a moment ago: the unique key keeps it to one Task.
        if (!(await findByUniqueKey(db, key))) throw err;
      }
    }
  }
  return created;
}

/** Runs the sweep now and every 6 hours; returns a stop function. A failing sweep is logged and tried again later. */
export function startAgeTransitionSweep(
  db: Database,
  config: Config,
  log: { error(obj: object, msg: string): void },
): () => void {
  const run = () =>
    void sweepAgeTransitions(db, config).catch((err: unknown) =>
      log.error({ err }, 'age-transition sweep failed'),
    );
  run();
  const timer = setInterval(run, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
