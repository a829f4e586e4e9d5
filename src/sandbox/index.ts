// The sandbox: a gateway with fixtures, simulated agency FHIR servers and the /sandbox shortcuts, in one process.
import express, { type Express } from 'express';
import type { Config } from '../config.js';
import { isRole } from '../auth/access.js';
import type { RegisteredClient } from '../auth/auth.js';
import { badRequest, notFound } from '../fhir/outcomes.js';
import { startGateway, type RunningGateway, type StartOptions } from '../server.js';
import { SimulatedAgencies } from './agencies.js';
import { mountSandboxProvider } from './oidc-provider.js';
import {
  readAgencyRecords,
  readFamilies,
  readJsonFixture,
  seedSandbox,
  type FixtureOrganization,
} from './seed.js';
import { SandboxClock } from './clock.js';
import { mountSandboxControls } from './controls.js';

export interface RunningSandbox extends RunningGateway {
  agencies: SimulatedAgencies;
  clients: RegisteredClient[];
  organizations: FixtureOrganization[];
}

export async function startSandbox(
  config: Config,
  opts: Omit<StartOptions, 'mount' | 'onListening'> = {},
): Promise<RunningSandbox> {
  const organizations = await readJsonFixture<FixtureOrganization[]>('organizations.json');
  const agencies = new SimulatedAgencies(
    organizations.filter((o) => o.agency).map((o) => o.id),
    await readAgencyRecords(),
  );
  let clients: RegisteredClient[] = [];
  let ctxRef: RunningGateway['ctx'] | undefined;
  let baseUrl = '';
  const clock = new SandboxClock();
  const clientLines = () =>
    clients.map((c) => ({
      clientId: c.clientId,
      role: c.role,
      organization: c.organization,
      privateKey: `fixtures/keys/${c.clientId}.private.jwk.json`,
    }));

  const mount = (app: Express) => {
    app.use('/agencies', agencies.router());
    mountSandboxControls(app, {
      ctx: () => ctxRef!,
      base: () => baseUrl,
      clock,
      agencies,
      clients: clientLines,
      families: readFamilies,
      reseed: async () => void (await seedSandbox(ctxRef!, `${baseUrl}/agencies`)),
    });
    mountSandboxProvider(app, () => ctxRef!.config.baseUrl);
    app.get('/sandbox/clients', (_req, res) => {
      res.json(
        clients.map((c) => {
          const org = organizations.find((o) => `Organization/${o.id}` === c.organization);
          return {
            clientId: c.clientId,
            role: c.role,
            organization: {
              reference: c.organization,
              display: org?.name,
              identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: org?.ura },
            },
            privateKey: `fixtures/keys/${c.clientId}.private.jwk.json`,
          };
        }),
      );
    });
    app.post('/sandbox/token', express.json(), async (req, res) => {
      const { clientId, patient } = (req.body ?? {}) as { clientId?: unknown; patient?: unknown };
      if (typeof patient === 'string') {
        // A person (in production: after DigiD), to see who accessed their data or their child's.
        const person = {
          clientId: `person-${patient}`,
          role: 'person' as const,
          organization: `Person/${patient}`,
          jwks: { keys: [] },
        };
        res.json(
          await ctxRef!.auth.tokenFor(person, 'patient/AuditEvent.read patient/Consent.read', patient),
        );
        return;
      }
      if (typeof clientId !== 'string')
        throw badRequest(
          'Verwacht {"clientId": "sandbox-<rol>"} of {"patient": "<BSN>"} / Body must be {"clientId": "sandbox-<role>"} or {"patient": "<BSN>"}',
        );
      const client = await ctxRef!.auth.findClient(clientId);
      if (!client || !isRole(client.role))
        throw notFound(`Geen sandboxclient ${clientId} / No sandbox client ${clientId}`);
      res.json(
        await ctxRef!.auth.tokenFor(client, typeof req.body.scope === 'string' ? req.body.scope : undefined),
      );
    });
  };

  const gateway = await startGateway(
    { ...config, sandbox: true, clock: () => clock.now() },
    {
      ...opts,
      mount,
      onListening: async (g) => {
        ctxRef = g.ctx;
        baseUrl = g.url;
        ({ clients } = await seedSandbox(g.ctx, `${g.url}/agencies`));
      },
    },
  );
  return { ...gateway, agencies, clients, organizations };
}
