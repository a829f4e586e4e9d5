// The sandbox controls, mounted only in sandbox mode beside /sandbox/token (outside the scoped API, like it):
// GET /sandbox (index page), POST /sandbox/reset (back to the fixtures), GET/POST/DELETE /sandbox/clock.
import express, { type Express, type Request } from 'express';
import type { Bundle } from '@medplum/fhirtypes';

import { audit } from '../audit/record.js';
import type { GatewayContext } from '../context.js';
import { badRequest } from '../fhir/outcomes.js';
import type { SimulatedAgencies } from './agencies.js';
import type { SandboxClock } from './clock.js';
import { familyMembers, sandboxIndexHtml, type SandboxClientLine } from './index-page.js';

export interface SandboxControls {
  ctx: () => GatewayContext;
  base: () => string;
  clock: SandboxClock;
  agencies: SimulatedAgencies;
  clients: () => SandboxClientLine[];
  families: () => Promise<{ name: string; bundle: Bundle }[]>;
  /** Seeds the fixtures again (what start-up does). */
  reseed: () => Promise<void>;
}

/**
 * What a reset empties: the person index, consents, tasks and everything recorded about them, pending deliveries and
 * idempotency keys. The audit log stays: it is append-only in the sandbox too, and the reset is recorded in it.
 */
const RESET_TABLES = [
  'delivery_jobs',
  'idempotency_keys',
  'resource_tokens',
  'resource_orgs',
  'resources',
  'resource_history',
];

function clockAnswer(clock: SandboxClock) {
  return { now: clock.now().toISOString(), overridden: clock.overridden };
}

export function mountSandboxControls(app: Express, c: SandboxControls): void {
  app.get('/sandbox', async (req: Request, res) => {
    const at = c.clock.now();
    const families = (await c.families()).map((f) => ({
      name: f.name,
      members: familyMembers(f.bundle, at),
    }));
    if (req.accepts(['text/html', 'application/json']) === 'application/json') {
      res.json({ clients: c.clients(), families, clock: clockAnswer(c.clock) });
      return;
    }
    res
      .type('text/html; charset=utf-8')
      .send(sandboxIndexHtml(c.base(), c.clients(), families, { now: at, overridden: c.clock.overridden }));
  });

  app.post('/sandbox/reset', async (_req, res) => {
    const ctx = c.ctx();
    await ctx.db.transaction(async (tx) => {
      for (const table of RESET_TABLES) await tx.query(`DELETE FROM ${table}`);
      await audit(
        tx,
        { org: 'Organization/ketenpoort-beheer', clientId: 'sandbox' },
        {
          subtype: 'sandbox-reset',
          outcome: 'success',
          description:
            'The sandbox was reset to its fixtures: person index, consents, tasks and deliveries emptied.',
        },
      );
    });
    c.agencies.reset();
    c.clock.reset();
    await c.reseed();
    res.json({ reset: true, clock: clockAnswer(c.clock) });
  });

  app.get('/sandbox/clock', (_req, res) => {
    res.json(clockAnswer(c.clock));
  });
  app.post('/sandbox/clock', express.json({ limit: '1kb' }), (req, res) => {
    const now = (req.body as { now?: unknown } | undefined)?.now;
    const at = typeof now === 'string' && /^\d{4}-\d{2}-\d{2}(T.+)?$/.test(now) ? new Date(now) : undefined;
    if (!at || Number.isNaN(at.getTime()) || !isCalendarDay((now as string).slice(0, 10)))
      throw badRequest(
        'Verwacht {"now": "<datum of moment>"}, bijvoorbeeld {"now": "2030-01-01T12:00:00+01:00"} / Body must be {"now": "<date or date-time>"}, e.g. {"now": "2030-01-01T12:00:00+01:00"}',
      );
    c.clock.set(at);
    res.json(clockAnswer(c.clock));
  });
  app.delete('/sandbox/clock', (_req, res) => {
    c.clock.reset();
    res.json(clockAnswer(c.clock));
  });
}

/** Whether YYYY-MM-DD is a day of the calendar (not 30 February, which Date would roll into March). */
function isCalendarDay(day: string): boolean {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
