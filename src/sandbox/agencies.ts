// Simulated agency FHIR servers for the sandbox: they receive deliveries and can be told to fail, for integrators and tests.
import { randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import type { Bundle, Resource } from '@medplum/fhirtypes';

/**
 * How a simulated agency answers a delivery: `ok`; `error` (500); `timeout` (no answer); `ignore-if-none-exist`
 * (accepts, but stores every post, even a redelivery of a Bundle it already has, as a server that does not
 * support conditional create would).
 */
export type AgencyBehaviour = 'ok' | 'error' | 'timeout' | 'ignore-if-none-exist';
const BEHAVIOURS: AgencyBehaviour[] = ['ok', 'error', 'timeout', 'ignore-if-none-exist'];

interface Agency {
  /** Records the agency keeps itself, answered to pulls. */
  records: Resource[];
  received: Bundle[];
  /** The Bundles received, by `system|value` of their identifier (a conditional create looks there). */
  byIdentifier: Map<string, Bundle>;
  behaviour: AgencyBehaviour;
  /** Every POST of a Bundle, redeliveries included. */
  posts: number;
  delayMs: number;
  /** When each Bundle (by identifier value) first arrived, in performance.now() milliseconds. */
  arrivals: Map<string, number>;
}

/** An agency as it starts: nothing received, answering normally. */
const freshState = (): Omit<Agency, 'records'> => ({
  received: [],
  byIdentifier: new Map(),
  behaviour: 'ok',
  posts: 0,
  delayMs: 0,
  arrivals: new Map(),
});

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Answers as a failing agency would (500, or no answer at all) when told to; true when it did. */
async function misbehave(agency: Agency, res: express.Response): Promise<boolean> {
  if (agency.behaviour === 'error') {
    res
      .status(500)
      .type(FHIR_JSON)
      .send(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'exception', diagnostics: 'simulated failure' }],
        }),
      );
    return true;
  }
  if (agency.behaviour === 'timeout') {
    await new Promise((r) => setTimeout(r, 60_000).unref());
    if (!res.headersSent) res.status(504).end();
    return true;
  }
  return false;
}

export class SimulatedAgencies {
  private readonly agencies = new Map<string, Agency>();

  constructor(orgIds: string[], records: Record<string, Resource[]> = {}) {
    for (const id of orgIds) this.agencies.set(id, { records: records[id] ?? [], ...freshState() });
  }

  ids(): string[] {
    return [...this.agencies.keys()];
  }

  /** Back to the start: nothing received, every agency answering normally (POST /sandbox/reset). */
  reset(): void {
    for (const agency of this.agencies.values()) Object.assign(agency, freshState());
  }

  received(orgId: string): Bundle[] {
    return this.agencies.get(orgId)?.received ?? [];
  }

  arrivals(orgId: string): Map<string, number> {
    return this.agencies.get(orgId)?.arrivals ?? new Map();
  }

  posts(orgId: string): number {
    return this.agencies.get(orgId)?.posts ?? 0;
  }

  /** Makes the agency take this long to answer each delivery (a slow recipient). */
  setDelay(orgId: string, ms: number): void {
    const agency = this.agencies.get(orgId);
    if (agency) agency.delayMs = ms;
  }

  setBehaviour(orgId: string, behaviour: AgencyBehaviour): void {
    const agency = this.agencies.get(orgId);
    if (agency) agency.behaviour = behaviour;
  }

  /** Routes under /agencies/:org/fhir: POST/GET Bundle, metadata, and PUT /agencies/:org/behaviour. */
  router(): Router {
    const router = express.Router();
    router.use(express.json({ type: ['application/fhir+json', 'application/json'], limit: '16mb' }));
    const agencyOf = (org: string, res: express.Response): Agency | undefined => {
      const agency = this.agencies.get(org);
      if (!agency)
        res
          .status(404)
          .type(FHIR_JSON)
          .send(
            JSON.stringify({
              resourceType: 'OperationOutcome',
              issue: [{ severity: 'error', code: 'not-found', diagnostics: `No simulated agency ${org}` }],
            }),
          );
      return agency;
    };
    router.put('/:org/behaviour', (req, res) => {
      const behaviour = (req.body as { behaviour?: AgencyBehaviour })?.behaviour;
      if (!agencyOf(req.params.org, res)) return;
      if (!behaviour || !BEHAVIOURS.includes(behaviour)) {
        res.status(400).json({ error: `behaviour must be one of ${BEHAVIOURS.join(', ')}` });
        return;
      }
      this.setBehaviour(req.params.org, behaviour);
      res.json({ org: req.params.org, behaviour });
    });
    router.get('/:org/fhir/metadata', (req, res) => {
      if (!agencyOf(req.params.org, res)) return;
      res.type(FHIR_JSON).send(
        JSON.stringify({
          resourceType: 'CapabilityStatement',
          status: 'active',
          kind: 'instance',
          date: new Date().toISOString(),
          fhirVersion: '4.0.1',
          format: ['json'],
          software: { name: `Simulated agency ${req.params.org}` },
          rest: [
            {
              mode: 'server',
              resource: [{ type: 'Bundle', interaction: [{ code: 'create' }, { code: 'search-type' }] }],
            },
          ],
        }),
      );
    });
    router.post('/:org/fhir/Bundle', async (req, res) => {
      const agency = agencyOf(req.params.org, res);
      if (!agency) return;
      agency.posts++;
      if (agency.delayMs) await new Promise((r) => setTimeout(r, agency.delayMs));
      if (await misbehave(agency, res)) return;
      const bundle = req.body as Bundle;
      // Conditional create: a redelivery of a Bundle already received returns the one stored.
      const wanted =
        agency.behaviour === 'ignore-if-none-exist'
          ? null
          : /^identifier=([^|]*)\|(.+)$/.exec(req.get('if-none-exist') ?? '');
      const existing = wanted ? agency.byIdentifier.get(`${wanted[1]}|${wanted[2]}`) : undefined;
      // Prefer: return=minimal (FHIR http): the answer names where the Bundle is, without sending it back.
      const minimal = /return=minimal/.test(req.get('prefer') ?? '');
      if (existing) {
        res.status(200).location(`Bundle/${existing.id}`);
        if (minimal) res.end();
        else res.type(FHIR_JSON).send(JSON.stringify(existing));
        return;
      }
      const stored = { ...bundle, id: randomUUID() };
      agency.received.push(stored);
      if (bundle.identifier?.value)
        agency.byIdentifier.set(`${bundle.identifier.system ?? ''}|${bundle.identifier.value}`, stored);
      if (bundle.identifier?.value && !agency.arrivals.has(bundle.identifier.value))
        agency.arrivals.set(bundle.identifier.value, performance.now());
      res.status(201).location(`Bundle/${stored.id}`);
      if (minimal) res.end();
      else res.type(FHIR_JSON).send(JSON.stringify(stored));
    });
    // Pulls: Patient by identifier, and any record type by patient or subject reference.
    router.get('/:org/fhir/:type', async (req, res, next) => {
      const agency = agencyOf(req.params.org, res);
      if (!agency) return;
      if (req.params.type === 'Bundle' || req.params.type === 'metadata') return next();
      if (await misbehave(agency, res)) return;
      const identifier = typeof req.query.identifier === 'string' ? req.query.identifier : undefined;
      const patient = (req.query.patient ?? req.query.subject) as string | undefined;
      const matches = agency.records.filter((r) => {
        if (r.resourceType !== req.params.type) return false;
        if (identifier) {
          const [system, value] = identifier.split('|');
          return ((r as { identifier?: { system?: string; value?: string }[] }).identifier ?? []).some(
            (i) => i.value === value && (!system || i.system === system),
          );
        }
        if (patient) {
          const record = r as unknown as Record<string, { reference?: string } | undefined>;
          return [record.subject?.reference, record.patient?.reference].includes(patient);
        }
        return true;
      });
      res.type(FHIR_JSON).send(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'searchset',
          total: matches.length,
          entry: matches.map((resource) => ({ resource, search: { mode: 'match' } })),
        }),
      );
    });
    router.get('/:org/fhir/Bundle', (req, res) => {
      const agency = agencyOf(req.params.org, res);
      if (!agency) return;
      // `_summary=count`: the number received, without the Bundles (the throughput benchmark polls this).
      if (req.query._summary === 'count') {
        res
          .type(FHIR_JSON)
          .send(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: agency.received.length }));
        return;
      }
      res.type(FHIR_JSON).send(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'searchset',
          total: agency.received.length,
          entry: agency.received.map((b) => ({ resource: b, search: { mode: 'match' } })),
        }),
      );
    });
    return router;
  }
}
