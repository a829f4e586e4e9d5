// `npm start`: the gateway alone, configured from the environment.
import { loadConfig } from './config.js';
import { startGateway } from './server.js';

let gateway;
try {
  gateway = await startGateway(loadConfig());
} catch (err) {
  // A configuration mistake (BASE_URL missing, a value out of range) is one clear line, not a stack trace.
  const message = err instanceof Error ? err.message : String(err);
  if (!message.startsWith('configuration:')) throw err;
  console.error(`ketenpoort: ${message}`);
  process.exit(1);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void gateway.close().then(() => process.exit(0));
  });
}
