// One sandbox for a test file of operation tests (src/http/operations/*.test.ts): started before its tests, closed
// after them; `call` asks as a sandbox role (or without a token).
import { afterAll, beforeAll } from 'vitest';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { fhir, sandboxToken, testSandbox, type FhirResponse } from './helpers.js';

export interface OperationServer {
  readonly sandbox: RunningSandbox;
  call<T>(role: string | undefined, method: string, path: string, body?: unknown): Promise<FhirResponse<T>>;
  /** The subtype of the last audit record written. */
  lastAuditSubtype(): Promise<string | undefined>;
}

export function operationServer(): OperationServer {
  let started: RunningSandbox | undefined;
  beforeAll(async () => {
    started = await testSandbox();
  });
  afterAll(() => started?.close());
  const server: OperationServer = {
    get sandbox() {
      if (!started) throw new Error('the sandbox is started before the tests');
      return started;
    },
    async call<T>(role: string | undefined, method: string, path: string, body?: unknown) {
      const token = role ? await sandboxToken(server.sandbox, role) : undefined;
      return fhir<T>(server.sandbox.url, token, method, path, body);
    },
    async lastAuditSubtype() {
      const [last] = await server.sandbox.ctx.db.query<{ subtype: string }>(
        'SELECT subtype FROM audit_events ORDER BY seq DESC LIMIT 1',
      );
      return last?.subtype;
    },
  };
  return server;
}
