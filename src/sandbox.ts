// `npm run sandbox`: the gateway with fixtures and simulated agencies; prints where everything is.
import { loadConfig } from './config.js';
import { startSandbox } from './sandbox/index.js';

const env = {
  ...process.env,
  DATA_DIR: process.env.DATA_DIR ?? 'memory://',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
};
const sandbox = await startSandbox(loadConfig(env));
const line = (label: string, value: string) => console.log(`  ${label.padEnd(22)} ${value}`);
console.log(
  `\nKetenpoort sandbox is running (${sandbox.ctx.db.engine}${env.DATA_DIR === 'memory://' ? ', in memory' : `, ${env.DATA_DIR}`})\n`,
);
line('FHIR base', `${sandbox.url}/fhir`);
line('CapabilityStatement', `${sandbox.url}/fhir/metadata`);
line('OpenAPI', `${sandbox.url}/openapi.json`);
line('Token endpoint', `${sandbox.url}/auth/token`);
line('Sandbox overview', `${sandbox.url}/sandbox (clients, families, example calls)`);
line('Sandbox clients', `${sandbox.url}/sandbox/clients`);
line('Sandbox token', `POST ${sandbox.url}/sandbox/token {"clientId":"sandbox-cjg"}`);
line('Privacy console', `${sandbox.url}/console/`);
line('Sandbox controls', `POST ${sandbox.url}/sandbox/reset, POST|DELETE ${sandbox.url}/sandbox/clock`);
line(
  'Conformance kit',
  `npm run conformance -- --base-url ${sandbox.url} --client-id sandbox-cjg --key fixtures/keys/sandbox-cjg.private.jwk.json`,
);
line('Municipal report', `${sandbox.url}/reports/$municipal?period=2005/2007 (as sandbox-municipality)`);
console.log('\nSimulated agency FHIR servers:');
for (const id of sandbox.agencies.ids()) line(id, `${sandbox.url}/agencies/${id}/fhir`);
console.log('\nClients (private keys in fixtures/keys/):');
for (const c of sandbox.clients) line(c.clientId, `${c.role.padEnd(16)} ${c.organization}`);
console.log('\nPress Ctrl+C to stop.');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0));
  });
}
