// One sandbox for a test file of operation tests (src/http/operations/*.test.ts): started before its tests, closed
// after them; `call` asks as a sandbox role (or without a token).
import type { Consent, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll } from 'vitest';
import type { RunningSandbox } from '../src/sandbox/index.js';
import {
  consentResource,
  fhir,
  isoDateYearsAgo,
  patientResource,
  sandboxToken,
  testBsn,
  testSandbox,
  type FhirResponse,
} from './helpers.js';

export interface OperationServer {
  readonly sandbox: RunningSandbox;
  call<T>(
    role: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<FhirResponse<T>>;
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
    async call<T>(
      role: string | undefined,
      method: string,
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ) {
      const token = role ? await sandboxToken(server.sandbox, role) : undefined;
      return fhir<T>(server.sandbox.url, token, method, path, body, headers);
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

/** A 17-year-old the CJG registered, who consented herself to `recipient` for care management: her BSN and Consent. */
export async function consentingYoungPerson(
  server: OperationServer,
  recipient: string,
): Promise<{ bsn: string; consentId: string }> {
  const bsn = testBsn();
  const patient = await server.call<Patient>(
    'cjg',
    'POST',
    '/fhir/Patient',
    patientResource(bsn, isoDateYearsAgo(17)),
  );
  const ref = `Patient/${patient.body.id}`;
  const consent = await server.call<Consent>(
    'cjg',
    'POST',
    '/fhir/Consent',
    consentResource(ref, [ref], [recipient], ['CAREMGT']),
  );
  if (consent.status !== 201) throw new Error(`the consent was not registered (${consent.status})`);
  return { bsn, consentId: consent.body.id! };
}
