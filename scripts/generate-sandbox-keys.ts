// Makes one ES256 key pair per sandbox client: private keys in fixtures/keys/, public keys in fixtures/clients.json.
// Run once (`npx tsx scripts/generate-sandbox-keys.ts`); the output is committed so integrators can do the real flow.
import { writeFile, readFile, mkdir } from 'node:fs/promises';
import { exportJWK, generateKeyPair } from 'jose';

interface Org {
  id: string;
  role: string;
}

const orgs = JSON.parse(await readFile('fixtures/organizations.json', 'utf8')) as Org[];
await mkdir('fixtures/keys', { recursive: true });
const clients = [];
for (const org of orgs) {
  const clientId = `sandbox-${org.role}`;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${clientId}-1`;
  const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
  const pub = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  await writeFile(`fixtures/keys/${clientId}.private.jwk.json`, JSON.stringify(priv, null, 2) + '\n');
  clients.push({ clientId, role: org.role, organization: `Organization/${org.id}`, jwks: { keys: [pub] } });
}
await writeFile('fixtures/clients.json', JSON.stringify(clients, null, 2) + '\n');
console.log(`wrote ${clients.length} sandbox clients`);
