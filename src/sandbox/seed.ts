// Loads the sandbox fixtures: organisations with endpoints on the simulated agencies, clients, and the fixture families.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURES_DIR } from '../paths.js';
import type { Bundle, Endpoint, Organization, Patient, Resource } from '@medplum/fhirtypes';
import type { RegisteredClient } from '../auth/auth.js';
import { registerClients } from '../store/clients.js';
import type { GatewayContext } from '../context.js';
import { AGENCY_ROLE_SYSTEM } from '../consent/constants.js';
import { runTransaction } from '../person-index/transaction.js';

import { auditAll } from '../audit/record.js';
import { fixtureInput, type FixtureTrajectory } from '../reports/fixtures.js';
import { MUNICIPALITY_SYSTEM } from '../reports/municipal.js';
import { reportTrajectory } from '../reports/trajectory.js';
import { recordTrajectories } from '../store/report-trajectories.js';
import {
  BSN_SYSTEM,
  createResource,
  findByUniqueKey,
  readResource,
  updateResource,
} from '../store/resources.js';
import type { Principal } from '../auth/access.js';
import { isRole } from '../auth/access.js';

export const URA_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/ura';

export interface FixtureOrganization {
  id: string;
  name: string;
  role: string;
  ura: string;
  /** Agencies keep records and get a simulated FHIR server; the privacy office and admin do not. */
  agency: boolean;
  /** A municipality's CBS code (four digits). */
  cbs?: string;
}

export async function readJsonFixture<T>(relative: string): Promise<T> {
  return JSON.parse(await readFile(path.join(FIXTURES_DIR, relative), 'utf8')) as T;
}

export function organizationResource(org: FixtureOrganization): Organization {
  return {
    resourceType: 'Organization',
    id: org.id,
    active: true,
    name: org.name,
    identifier: [
      { system: URA_SYSTEM, value: org.ura },
      ...(org.cbs ? [{ system: MUNICIPALITY_SYSTEM, value: org.cbs }] : []),
    ],
    type: [{ coding: [{ system: AGENCY_ROLE_SYSTEM, code: org.role }] }],
  };
}

async function upsert(ctx: GatewayContext, resource: Organization | Endpoint): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const existing = await readResource(tx, resource.resourceType, resource.id!);
    if (existing) await updateResource(tx, { ...resource, id: resource.id! });
    else await createResource(tx, resource, 'Organization/ketenpoort-beheer');
  });
}

/** Seeds (idempotently) everything the sandbox serves; endpoint addresses point at `agenciesBaseUrl`. */
export async function seedSandbox(
  ctx: GatewayContext,
  agenciesBaseUrl: string,
): Promise<{ clients: RegisteredClient[]; organizations: FixtureOrganization[] }> {
  const organizations = await readJsonFixture<FixtureOrganization[]>('organizations.json');
  for (const org of organizations) {
    await upsert(ctx, organizationResource(org));
    if (org.agency) {
      await upsert(ctx, {
        resourceType: 'Endpoint',
        id: `${org.id}-fhir`,
        status: 'active',
        connectionType: {
          system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
          code: 'hl7-fhir-rest',
        },
        name: `${org.name} FHIR server (simulated)`,
        managingOrganization: { reference: `Organization/${org.id}` },
        payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Bundle' }] }],
        address: `${agenciesBaseUrl}/${org.id}/fhir`,
      });
    }
  }
  const clients = await readJsonFixture<RegisteredClient[]>('clients.json');
  await registerClients(ctx.db, clients);
  const cjg = clients.find((c) => c.role === 'cjg');
  if (!cjg || !isRole(cjg.role)) throw new Error('fixtures/clients.json has no cjg client');
  const principal: Principal = {
    clientId: cjg.clientId,
    role: cjg.role,
    org: cjg.organization,
    scope: 'system/*.*',
  };
  for (const { bundle } of await readFamilies()) await loadFamily(ctx, principal, bundle);
  await seedTrajectories(ctx);
  return { clients, organizations };
}

/**
 * Records the trajectories of fixtures/trajectories for the municipal report, each with its audit record; one that is
 * already there (a restart on a kept database) is left as it is. Their EpisodeOfCare resources pass the profile validation of
 * POST /reports/$record-trajectory (src/reports/municipal.test.ts checks every one), which is not repeated here: it
 * would compile the validator at every start.
 */
async function seedTrajectories(ctx: GatewayContext): Promise<void> {
  for (const file of (await readdir(path.join(FIXTURES_DIR, 'trajectories')))
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const fixtures = await readJsonFixture<FixtureTrajectory[]>(`trajectories/${file}`);
    const trajectories = fixtures.map((t) => {
      const { trajectory, issues } = reportTrajectory({
        pseudonymKey: ctx.config.pseudonymKey,
        ...fixtureInput(t),
      });
      if (!trajectory) throw new Error(`fixtures/trajectories/${file} ${t.id}: ${issues[0]?.diagnostics}`);
      return trajectory;
    });
    await ctx.db.transaction(async (tx) => {
      const known = new Set(
        (
          await tx.query<{ key: string }>('SELECT key FROM report_trajectories WHERE key = ANY($1::text[])', [
            trajectories.map((t) => t.key),
          ])
        ).map((r) => r.key),
      );
      const fresh = trajectories.flatMap((t, i) => (known.has(t.key) ? [] : [{ t, fixture: fixtures[i]! }]));
      if (fresh.length === 0) return;
      await recordTrajectories(
        tx,
        fresh.map((f) => f.t),
      );
      await auditAll(
        tx,
        fresh.map(({ t, fixture }) => ({
          requester: { org: fixture.org, clientId: 'sandbox-seed' },
          input: {
            subtype: 'report-record',
            outcome: 'success',
            description: `The sandbox recorded fixture trajectory ${fixture.id} of ${fixture.org} for the report of municipality ${fixture.municipality}.`,
            details: { municipality: fixture.municipality, trajectory: t.key, result: 'created' },
          },
        })),
      );
    });
  }
}

/** Registers a family transaction Bundle unless its first Patient is already known (restarts on a kept database). */
async function loadFamily(ctx: GatewayContext, principal: Principal, bundle: Bundle): Promise<void> {
  const first = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as
    Patient | undefined;
  const bsn = first?.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
  if (bsn && (await findByUniqueKey(ctx.db, `Patient|${principal.org}|${bsn}`))) return;
  await ctx.db.transaction((tx) => runTransaction(tx, principal, bundle));
}

/** The fixture families (fixtures/families/*.json): transaction Bundles the CJG registers at start-up. */
export async function readFamilies(): Promise<{ name: string; bundle: Bundle }[]> {
  const files = (await readdir(path.join(FIXTURES_DIR, 'families')))
    .filter((f) => f.endsWith('.json'))
    .sort();
  return Promise.all(
    files.map(async (f) => ({
      name: f.replace(/\.json$/, ''),
      bundle: await readJsonFixture<Bundle>(`families/${f}`),
    })),
  );
}

/** The records each simulated agency keeps (fixtures/agency-records/<organisation id>.json), answered to pulls. */
export async function readAgencyRecords(): Promise<Record<string, Resource[]>> {
  const out: Record<string, Resource[]> = {};
  for (const file of (await readdir(path.join(FIXTURES_DIR, 'agency-records'))).filter((f) =>
    f.endsWith('.json'),
  )) {
    const bundle = await readJsonFixture<Bundle>(`agency-records/${file}`);
    out[file.replace(/\.json$/, '')] = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  }
  return out;
}
