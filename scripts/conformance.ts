// `npm run conformance -- --base-url URL --client-id ID --key FILE`: runs fixtures/scenarios/*.json against a running
// gateway and prints a pass/fail table; exit code 0 only when no scenario failed.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { ConformanceRunner, loadScenarios, table, type ConformanceClient } from './conformance/runner.js';

const USAGE = `usage: npm run conformance -- --base-url URL --client-id ID --key FILE [options]

  --base-url URL        the gateway (e.g. http://localhost:8080)
  --client-id ID        your client, registered at the gateway
  --key FILE            its private key (JWK, as fixtures/keys/*.private.jwk.json)
  --role ROLE           its role (read from /sandbox/clients on the sandbox)
  --organization REF    its organisation, Organization/<id> (read from /sandbox/clients on the sandbox)
  --client ROLE=ID:FILE:REF  a client of another role (repeatable); on the sandbox every client whose key is in
                        fixtures/keys/ is added by itself
  --scenarios DIR       the scenario files (default fixtures/scenarios)
  --only TEXT           only scenarios whose name contains TEXT (repeatable)
  --reset               sandbox only: reset it to the fixtures first
  -h, --help            this text

Scenarios for roles without a client, and sandbox-only scenarios against another gateway, are skipped.`;

interface SandboxClient {
  clientId: string;
  role: string;
  organization: { reference: string };
  privateKey: string;
}

async function readJwk(file: string): Promise<JWK> {
  return JSON.parse(await readFile(file, 'utf8')) as JWK;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'base-url': { type: 'string' },
        'client-id': { type: 'string' },
        key: { type: 'string' },
        role: { type: 'string' },
        organization: { type: 'string' },
        client: { type: 'string', multiple: true },
        scenarios: { type: 'string' },
        only: { type: 'string', multiple: true },
        reset: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`conformance: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const base = values['base-url']?.replace(/\/+$/, '');
  if (!base || !values['client-id'] || !values.key) {
    console.error(`conformance: --base-url, --client-id and --key are required\n\n${USAGE}`);
    return 2;
  }
  const listed = await fetch(`${base}/sandbox/clients`).then(
    async (r) => (r.ok ? ((await r.json()) as SandboxClient[]) : undefined),
    () => undefined,
  );
  const clients: ConformanceClient[] = [];
  const own = listed?.find((c) => c.clientId === values['client-id']);
  const role = values.role ?? own?.role;
  const organization = values.organization ?? own?.organization.reference;
  if (!role || !organization) {
    console.error(
      'conformance: give --role and --organization (the gateway has no /sandbox/clients to read them from)',
    );
    return 2;
  }
  clients.push({ clientId: values['client-id'], role, organization, jwk: await readJwk(values.key) });
  for (const spec of values.client ?? []) {
    const m = /^([\w-]+)=([^:]+):(.+):(Organization\/[\w.-]+)$/.exec(spec);
    if (!m) {
      console.error(`conformance: --client ${spec} is not ROLE=ID:FILE:Organization/<id>`);
      return 2;
    }
    clients.push({ role: m[1]!, clientId: m[2]!, jwk: await readJwk(m[3]!), organization: m[4]! });
  }
  for (const c of listed ?? [])
    if (!clients.some((k) => k.role === c.role) && existsSync(c.privateKey))
      clients.push({
        clientId: c.clientId,
        role: c.role,
        organization: c.organization.reference,
        jwk: await readJwk(c.privateKey),
      });
  if (values.reset) {
    if (!listed) {
      console.error('conformance: --reset needs the sandbox');
      return 2;
    }
    await fetch(`${base}/sandbox/reset`, { method: 'POST' });
  }
  const dir = values.scenarios ?? path.join('fixtures', 'scenarios');
  const scenarios = (await loadScenarios(dir)).filter(
    (s) => !values.only?.length || values.only.some((o) => s.name.includes(o)),
  );
  console.log(
    `Ketenpoort conformance: ${scenarios.length} scenario(s) against ${base}${listed ? ' (sandbox)' : ''}, clients: ${clients.map((c) => c.clientId).join(', ')}\n`,
  );
  const runner = new ConformanceRunner(base, clients, { sandbox: !!listed });
  const verdicts = await runner.runAll(scenarios);
  console.log(table(verdicts));
  return verdicts.some((v) => v.result === 'fail') ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
