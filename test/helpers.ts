// Test helpers: a sandbox on a free port, tokens (shortcut and real client assertions), FHIR calls, fresh databases.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importJWK, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import type { Bundle, Consent, Parameters, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { AuditLog } from '../src/audit/log.js';
import { loadConfig, type Config } from '../src/config.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { migrate, type Database } from '../src/store/database.js';
import { openDatabase } from '../src/store/open.js';
import { openPglite } from '../src/store/pglite.js';
import { openPostgres } from '../src/store/postgres.js';
import { BSN_SYSTEM } from '../src/store/resources.js';

export const PARENTAL_AUTHORITY = 'https://ketenpoort.nl/fhir/StructureDefinition/parental-authority';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig(
    { PORT: '0', DATA_DIR: 'memory://', LOG_LEVEL: 'silent', NODE_ENV: 'test' },
    { deliveryPollMs: 100, deliveryRetryBaseMs: 50, agencyTimeoutMs: 2000, ...overrides },
  );
}

export async function testSandbox(overrides: Partial<Config> = {}, db?: Database): Promise<RunningSandbox> {
  return startSandbox(testConfig(overrides), db ? { db } : {});
}

/** The database engines the integration tests run on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const ENGINES: ('pglite' | 'postgres')[] = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

/**
 * A new, empty database of the given engine; drop() removes a PostgreSQL one again. `until` leaves it as the release
 * that shipped the named migration left it (for upgrade tests); migrate(db) then brings it up to date. Its
 * transactions append to an audit log of the default settings (no signed checkpoints); a gateway started on it uses
 * its own (server.ts).
 */
export async function freshDatabase(
  engine: 'pglite' | 'postgres',
  opts: { until?: string } = {},
): Promise<{ db: Database; url?: string; drop(): Promise<void> }> {
  const open = async (where: { databaseUrl?: string; dataDir?: string }) => {
    const db =
      opts.until === undefined
        ? await openDatabase(where)
        : where.databaseUrl
          ? await openPostgres(where.databaseUrl)
          : await openPglite(where.dataDir ?? 'memory://');
    if (opts.until !== undefined) await migrate(db, { until: opts.until });
    return db.withServices(new AuditLog());
  };
  if (engine === 'pglite') {
    const db = await open({ dataDir: 'memory://' });
    return { db, drop: () => db.close() };
  }
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  const name = `ketenpoort_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  const db = await open({ databaseUrl: url.toString() });
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const again = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

export async function sandboxToken(sandbox: { url: string }, role: string): Promise<string> {
  const res = await fetch(`${sandbox.url}/sandbox/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: `sandbox-${role}` }),
  });
  if (res.status !== 200) throw new Error(`sandbox token for ${role}: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export async function clientKey(clientId: string): Promise<{ jwk: JWK; key: CryptoKey }> {
  const jwk = JSON.parse(await readFile(`fixtures/keys/${clientId}.private.jwk.json`, 'utf8')) as JWK;
  return { jwk, key: (await importJWK(jwk, 'ES256')) as CryptoKey };
}

/** A client assertion (RFC 7523) as a SMART backend client makes it; every field can be overridden. */
export async function clientAssertion(
  tokenUrl: string,
  clientId: string,
  opts: { key?: CryptoKey; jti?: string; expiresIn?: number; audience?: string; kid?: string } = {},
): Promise<string> {
  const { jwk, key } = await clientKey(clientId);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? jwk.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(opts.audience ?? tokenUrl)
    .setJti(opts.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresIn ?? 240))
    .sign(opts.key ?? key);
}

export async function requestToken(
  baseUrl: string,
  assertion: string,
  scope = 'system/*.read system/*.write',
): Promise<Response> {
  return fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
    }),
  });
}

export interface FhirResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export async function fhir<T = Record<string, unknown>>(
  baseUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<FhirResponse<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      accept: 'application/fhir+json',
      ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
}

let bsnCounter = 0;
/** A fresh valid test BSN in the 9999xxxxx range, different on every call within a process. */
export function testBsn(): string {
  const pid = process.pid % 1000;
  for (;;) {
    const candidate = `9999${String((pid * 97 + bsnCounter++) % 100000).padStart(5, '0')}`;
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(candidate[i]);
    if ((sum - Number(candidate[8])) % 11 === 0) return candidate;
  }
}

export function isoDateYearsAgo(years: number, days = 0, from = new Date()): string {
  const d = new Date(Date.UTC(from.getUTCFullYear() - years, from.getUTCMonth(), from.getUTCDate() - days));
  return d.toISOString().slice(0, 10);
}

export function patientResource(bsn: string, birthDate: string): Patient {
  return {
    resourceType: 'Patient',
    identifier: [{ system: BSN_SYSTEM, value: bsn }],
    birthDate,
    name: [{ family: 'Testpersoon' }],
  };
}

export function parentResource(patientRef: string, bsn: string, gezag: boolean): RelatedPerson {
  return {
    resourceType: 'RelatedPerson',
    patient: { reference: patientRef },
    identifier: [{ system: BSN_SYSTEM, value: bsn }],
    extension: [{ url: PARENTAL_AUTHORITY, valueBoolean: gezag }],
    relationship: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] },
    ],
  };
}

export function consentResource(
  patientRef: string,
  performers: string[],
  recipients: string[],
  purposes: string[],
  extra: Partial<Consent> = {},
): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: patientRef },
    performer: performers.map((reference) => ({ reference })),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      actor: recipients.map((r) => ({
        role: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
        },
        reference: { reference: r },
      })),
      purpose: purposes.map((code) => ({
        system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
        code,
      })),
    },
    ...extra,
  };
}

export function exchangeParameters(
  recipient: string,
  bsn: string,
  purpose: string,
  payload: Bundle,
  extra: Parameters['parameter'] = [],
): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'recipient', valueReference: { reference: recipient } },
      { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: bsn } },
      {
        name: 'purpose',
        valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: purpose },
      },
      { name: 'payload', resource: payload },
      ...(extra ?? []),
    ],
  };
}

export function param(parameters: Parameters, name: string) {
  return parameters.parameter?.find((p) => p.name === name);
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The parameters that name a legal exception: the basis, a justification, and each structured criterion. */
export function legalBasisParameters(
  code: string,
  justification?: string,
  criteria: Record<string, boolean | string> = {},
): NonNullable<Parameters['parameter']> {
  return [
    {
      name: 'legalBasis',
      valueCoding: { system: 'https://ketenpoort.nl/fhir/CodeSystem/legal-basis', code },
    },
    ...(justification ? [{ name: 'justification', valueString: justification }] : []),
    ...Object.entries(criteria).map(([c, v]) => ({
      name: 'criterion',
      part: [
        { name: 'code', valueCode: c },
        typeof v === 'boolean' ? { name: 'value', valueBoolean: v } : { name: 'value', valueString: v },
      ],
    })),
  ];
}

/** A payload of one CarePlan about the person with this BSN (optionally titled, to tell exchanges apart). */
export function carePlanPayload(bsn: string, title?: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        resource: {
          resourceType: 'CarePlan',
          status: 'active',
          intent: 'plan',
          ...(title ? { title } : {}),
          subject: { identifier: { system: BSN_SYSTEM, value: bsn } },
        },
      },
    ],
  };
}

/** A decision question ($consent-decision, or $exchange without payload): recipient, subject BSN, purpose, extras. */
export function questionAbout(
  subject: string,
  recipient: string,
  extra: Parameters['parameter'] = [],
  purpose = 'CAREMGT',
): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'recipient', valueReference: { reference: recipient } },
      { name: 'subject', valueIdentifier: { system: BSN_SYSTEM, value: subject } },
      {
        name: 'purpose',
        valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: purpose },
      },
      ...(extra ?? []),
    ],
  };
}

/** The reason codes of a decision answered as Parameters. */
export const reasonCodes = (p: Parameters) =>
  (p.parameter ?? [])
    .filter((x) => x.name === 'reason')
    .map((x) => x.part?.find((y) => y.name === 'code')?.valueCoding?.code);

/** permit or deny, from a decision answered as Parameters. */
export const verdictOf = (p: Parameters) => p.parameter?.find((x) => x.name === 'decision')?.valueCode;

/** The fixture family (fixtures/families/jansen-de-vries.json): Noah (9), his sister Emma and their parents. */
export const NOAH = '999910036';
export const EMMA = '999910048';
export const MOTHER = '999910012';

/** Sandbox organisations (fixtures/organizations.json) as references. */
export const ORG = {
  CJG: 'Organization/cjg-venlo',
  YOUTH_CARE: 'Organization/jeugdzorg-horizon',
  MUNICIPALITY: 'Organization/gemeente-venlo',
  VEILIG_THUIS: 'Organization/veilig-thuis-noord-limburg',
  GP: 'Organization/huisartsen-de-linde',
  SCHOOL: 'Organization/school-de-wilgen',
} as const;

/** A person's own token in the sandbox (in production: after signing in), for their access report and permissions. */
export async function personToken(sandbox: { url: string }, bsn: string): Promise<string> {
  const res = await fetch(`${sandbox.url}/sandbox/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ patient: bsn }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}
