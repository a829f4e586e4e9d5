// `npm start`: the gateway alone, configured from the environment.
import { loadConfig } from './config.js';
import { startGateway } from './server.js';

const gateway = await startGateway(loadConfig());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void gateway.close().then(() => process.exit(0));
  });
}
