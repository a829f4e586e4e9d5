// Age transitions on both engines: a child turning 12 or 16 within 30 days gives the organisation that arranged the
// consents a renewal Task (urgent when the policy requires renewal), once, visible to it and the privacy officer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Task } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { birthdayAt, sweepAgeTransitions, upcomingTransition } from '../src/person-index/age-transitions.js';
import {
  consentResource,
  ENGINES,
  fhir,
  freshDatabase,
  isoDateYearsAgo,
  parentResource,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';

describe('the day of an age transition', () => {
  it('is the birthday in the year the child turns 12 or 16; 29 February counts from 1 March', () => {
    expect(birthdayAt('2014-06-15', 12)).toBe('2026-06-15');
    expect(birthdayAt('2012-02-29', 16)).toBe('2028-02-29');
    expect(birthdayAt('2011-02-29', 16)).toBe('2027-03-01');
  });
  it('is announced within 30 days ahead, not earlier and not on or after the day itself', () => {
    const now = new Date('2026-11-30T10:00:00+01:00');
    expect(upcomingTransition('2014-12-20', now)).toEqual({ age: 12, on: '2026-12-20' });
    expect(upcomingTransition('2010-12-30', now)).toEqual({ age: 16, on: '2026-12-30' });
    expect(upcomingTransition('2014-12-31', now)).toBeUndefined();
    expect(upcomingTransition('2014-11-30', now)).toBeUndefined();
    expect(upcomingTransition('2012-12-20', now)).toBeUndefined();
  });
});

describe.each(ENGINES)('age-transition Tasks on %s', (engine) => {
  for (const policy of ['keep-until-withdrawn', 'require-renewal'] as const) {
    describe(policy, () => {
      let sandbox: RunningSandbox;
      let drop: () => Promise<void>;
      let cjg: string;
      beforeAll(async () => {
        const fresh = await freshDatabase(engine);
        drop = fresh.drop;
        sandbox = await testSandbox({ ageTransitionPolicy: policy }, fresh.db);
        cjg = await sandboxToken(sandbox, 'cjg');
      });
      afterAll(async () => {
        await sandbox.close();
        await drop();
      });

      /** A child with a gezag holder and a consent the cjg arranged, born `years` ago less `daysAhead` days. */
      const child = async (years: number, daysAhead: number) => {
        const p = await fhir<{ id: string }>(
          sandbox.url,
          cjg,
          'POST',
          '/fhir/Patient',
          patientResource(testBsn(), isoDateYearsAgo(years, -daysAhead)),
        );
        const parent = await fhir<{ id: string }>(
          sandbox.url,
          cjg,
          'POST',
          '/fhir/RelatedPerson',
          parentResource(`Patient/${p.body.id}`, testBsn(), true),
        );
        await fhir(
          sandbox.url,
          cjg,
          'POST',
          '/fhir/Consent',
          consentResource(
            `Patient/${p.body.id}`,
            [`RelatedPerson/${parent.body.id}`],
            ['Organization/huisartsen-de-linde'],
            ['CAREMGT'],
          ),
        );
        return `Patient/${p.body.id}`;
      };
      const renewals = async (token: string) =>
        (
          (await fhir<Bundle<Task>>(sandbox.url, token, 'GET', '/fhir/Task?code=consent-renewal&_count=100'))
            .body.entry ?? []
        ).map((e) => e.resource!);

      it('raises one Task per child turning 12 or 16 within 30 days, to the organisation that arranged the consents', async () => {
        const twelve = await child(12, 10);
        const sixteen = await child(16, 25);
        await child(12, 45);
        await child(9, 10);
        expect(await sweepAgeTransitions(sandbox.ctx.db, sandbox.ctx.config)).toBe(2);
        expect(await sweepAgeTransitions(sandbox.ctx.db, sandbox.ctx.config)).toBe(0);
        const tasks = await renewals(cjg);
        expect(tasks.map((t) => t.for?.reference).sort()).toEqual([twelve, sixteen].sort());
        const urgent = policy === 'require-renewal' ? 'urgent' : 'routine';
        expect(tasks.map((t) => t.priority)).toEqual([urgent, urgent]);
        expect(tasks.every((t) => t.owner?.reference === 'Organization/cjg-venlo')).toBe(true);
        const at16 = tasks.find((t) => t.for?.reference === sixteen)!;
        expect(at16.description).toMatch(
          /^Wordt 16 op \d{4}-\d{2}-\d{2}: toestemming nodig van de jongere zelf;/,
        );
        expect(at16.description).toContain(
          policy === 'require-renewal'
            ? 'de huidige toestemmingen tellen vanaf die dag niet meer'
            : 'blijven geldig tot intrekking',
        );
      });

      it('the privacy officer sees the Tasks; another agency does not', async () => {
        expect(
          (await renewals(await sandboxToken(sandbox, 'privacy-officer'))).length,
        ).toBeGreaterThanOrEqual(2);
        expect(await renewals(await sandboxToken(sandbox, 'gp'))).toEqual([]);
      });
    });
  }
});
