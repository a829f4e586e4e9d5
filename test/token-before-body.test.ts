// Who asks is settled before what they sent is read: a body that is not JSON (or nested too deep) is a 400 only for a
// caller whose token is valid and whose role and scope reach the route; without a token it is a 401, for a role that
// may not use the route a 403, and each of those refusals is on record. A transaction's per-entry scopes, which need
// the body, are still checked after it is parsed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { MAX_JSON_DEPTH } from '../src/http/body-guard.js';
import {
  clientAssertion,
  isoDateYearsAgo,
  patientResource,
  requestToken,
  sandboxToken,
  testBsn,
  testSandbox,
} from './helpers.js';

const NOT_JSON = '{"resourceType": "Patient",';
const TOO_DEEP = `${'['.repeat(MAX_JSON_DEPTH + 5)}${']'.repeat(MAX_JSON_DEPTH + 5)}`;
/** Routes behind the token check that take a JSON body, one of each router. */
const WRITE_ROUTES = [
  '/fhir/Patient',
  '/fhir',
  '/fhir/$exchange',
  '/reports/$record-trajectory',
  '/cds-services/patient-consent-consult',
  '/xacml',
];

describe('the token before the body', () => {
  let sandbox: RunningSandbox;
  let cjg: string;
  let research: string;

  const post = async (path: string, token: string | undefined, body: string) => {
    const res = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/fhir+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as OperationOutcome };
  };
  /** The refusal events whose description matches, newest first. */
  const refusals = async (like: string) =>
    (
      await sandbox.ctx.db.query<{ content: AuditEvent }>(
        `SELECT content FROM audit_events WHERE subtype = 'refusal' AND content->>'outcomeDesc' LIKE $1 ORDER BY seq DESC`,
        [like],
      )
    ).map((r) => r.content);
  const codesOf = (o: OperationOutcome) =>
    (o.issue ?? []).flatMap((i) => (i.details?.coding ?? []).map((c) => c.code));

  beforeAll(async () => {
    sandbox = await testSandbox();
    [cjg, research] = await Promise.all([sandboxToken(sandbox, 'cjg'), sandboxToken(sandbox, 'research')]);
  });
  afterAll(() => sandbox.close());

  it('answers a malformed body without a token with 401, WWW-Authenticate and an OperationOutcome, on record', async () => {
    await sandbox.ctx.refusals.flush(undefined, true);
    const first = await post('/fhir/Patient', undefined, NOT_JSON);
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toMatch(/^Bearer realm="ketenpoort"/);
    expect(first.body.resourceType).toBe('OperationOutcome');
    expect(first.body.issue?.[0]?.code).toBe('login');
    const [event] = await refusals('Refused (401) POST /fhir/Patient without a valid token%');
    expect(event?.outcome).toBe('4');
    for (const path of WRITE_ROUTES)
      for (const [body, token] of [
        [NOT_JSON, undefined],
        [TOO_DEEP, undefined],
        [NOT_JSON, 'not-a-token'],
      ] as const) {
        const res = await post(path, token, body);
        expect([path, body.slice(0, 5), res.status]).toEqual([path, body.slice(0, 5), 401]);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    // The first refusal of the source was written at once, the others as one summary of the window.
    await sandbox.ctx.refusals.flush(undefined, true);
    const [summary] = await refusals('% further refusals (401) without a valid token%');
    expect(summary?.outcomeDesc).toMatch(new RegExp(`^${WRITE_ROUTES.length * 3} further refusals`));
  });

  it('answers research with 403 on a write route, whatever its body, and records each refusal', async () => {
    const before = (await refusals(`Refused (403)%`)).length;
    for (const path of WRITE_ROUTES) {
      const res = await post(path, research, NOT_JSON);
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(codesOf(res.body).some((c) => c === 'role-not-allowed' || c === 'insufficient-scope')).toBe(
        true,
      );
      const [event] = await refusals(`Refused (403) POST ${path}:%`);
      expect(JSON.stringify(event?.agent)).toContain('sandbox-research');
    }
    expect((await refusals(`Refused (403)%`)).length).toBe(before + WRITE_ROUTES.length);
    // The transaction route's roles need no body: research is refused by role, not by the entries it sent.
    expect(codesOf((await post('/fhir', research, NOT_JSON)).body)).toEqual(['role-not-allowed']);
  });

  it('still answers a malformed body of a caller who may use the route with 400, on record', async () => {
    for (const path of ['/fhir/Patient', '/fhir', '/fhir/$exchange', '/xacml']) {
      for (const body of [NOT_JSON, TOO_DEEP]) {
        const res = await post(path, cjg, body);
        expect([path, body.slice(0, 5), res.status]).toEqual([path, body.slice(0, 5), 400]);
        expect(res.body.resourceType).toBe('OperationOutcome');
      }
    }
    const [event] = await refusals('Refused (400) POST /xacml:%');
    expect(JSON.stringify(event?.agent)).toContain('sandbox-cjg');
  });

  it("checks a transaction's per-entry scopes once its body is parsed", async () => {
    const assertion = await clientAssertion(`${sandbox.url}/auth/token`, 'sandbox-cjg');
    const granted = await requestToken(sandbox.url, assertion, 'system/Patient.cs');
    const narrow = ((await granted.json()) as { access_token: string }).access_token;
    const transaction: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:5d0a3c1e-7a1b-4c55-9a51-000000000001',
          resource: { resourceType: 'Group', type: 'person', actual: true },
          request: { method: 'POST', url: 'Group' },
        },
      ],
    };
    const refused = await post('/fhir', narrow, JSON.stringify(transaction));
    expect(refused.status).toBe(403);
    expect(codesOf(refused.body)).toEqual(['insufficient-scope']);
    expect(refused.body.issue?.[0]?.diagnostics).toContain('system/Group.c');
    // Within its scope the same token's transaction goes through, and its malformed body is a 400.
    const patient = patientResource(testBsn(), isoDateYearsAgo(9));
    const allowed = await post(
      '/fhir',
      narrow,
      JSON.stringify({
        ...transaction,
        entry: [{ ...transaction.entry![0], resource: patient, request: { method: 'POST', url: 'Patient' } }],
      }),
    );
    expect(allowed.status).toBe(200);
    expect((await post('/fhir', narrow, NOT_JSON)).status).toBe(400);
  });
});
