// The floor of the HTTP benchmark: a bare express 5 server that parses a JSON body and echoes it back. Started as a
// child process by http.bench.ts on PORT (loopback); whatever the gateway does beyond this costs throughput.
import express from 'express';

const app = express();
app.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '1mb' }));
app.post('/echo', (req, res) => {
  res.json(req.body as unknown);
});
app.get('/ready', (_req, res) => {
  res.send('ok');
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => server.close(() => process.exit(0)));
