// The gateway's configuration: one typed object, read once from the environment at start-up.
import { loadSignInConfig, type SignInConfig } from './sign-in-config.js';

/** How many audit chains concurrent writers may spread over (docs/audit.md), and how many they do unless told. */
export const MAX_AUDIT_CHAINS = 16;
export const DEFAULT_AUDIT_CHAINS = 8;

export type AgeTransitionPolicy = 'keep-until-withdrawn' | 'require-renewal';
/** Whether a consent needs evidence (the signed form and a verification) to count as a basis. */
export type ConsentEvidencePolicy = 'not-required' | 'required';

function evidencePolicy(value: string | undefined): ConsentEvidencePolicy {
  if (value === undefined || value === '') return 'not-required';
  if (value !== 'not-required' && value !== 'required')
    throw new Error('configuration: CONSENT_EVIDENCE_POLICY must be not-required or required');
  return value;
}

export interface Config {
  /** TCP port of the HTTP server (0 = any free port). */
  port: number;
  /** The moment decisions are taken at; only the sandbox's clock override sets it (POST /sandbox/clock). */
  clock?: () => Date;
  /**
   * Public base URL (scheme://host:port): the only token audience, and the base of every link. Required outside the
   * sandbox and tests; there it is the listening address when empty. Never taken from a request's Host header.
   */
  baseUrl: string;
  /** Test mode (NODE_ENV=test): like the sandbox, may start without BASE_URL. */
  testMode: boolean;
  /** PostgreSQL connection string; when empty the embedded database (PGlite) is used. */
  databaseUrl: string;
  /** Folder of the embedded database; 'memory://' keeps it in memory. */
  dataDir: string;
  /** Sandbox mode: fixtures, simulated agencies and the /sandbox routes. */
  sandbox: boolean;
  /** Largest request body accepted (express/bytes syntax). */
  bodyLimit: string;
  /** Lifetime of access tokens in seconds. */
  tokenTtlSeconds: number;
  /** JSON file with the registered agency clients (see fixtures/clients.json for the shape). */
  clientsFile: string;
  /** pino log level. */
  logLevel: string;
  /** What a parent's consent means once the child turns 12 or 16. */
  ageTransitionPolicy: AgeTransitionPolicy;
  /** Folder of the region's covenants (Contract-*.json); empty: no covenant narrows the decisions. */
  covenantsDir: string;
  /** Whether consents without evidence count (`required`: a signed form and a verification are needed). */
  consentEvidencePolicy: ConsentEvidencePolicy;
  /** Delivery worker: poll interval, first retry delay and give-up deadline, in milliseconds. */
  deliveryPollMs: number;
  deliveryRetryBaseMs: number;
  deliveryRetryMaxMs: number;
  deliveryDeadlineMs: number;
  /** The most delivery jobs one worker has under way at once. */
  deliveryBatch: number;
  /** How long a first delivery attempt may take before its Task shows in-progress. */
  deliveryInProgressAfterMs: number;
  /** Years audit metadata is kept when its legal basis names no retention (consent-based events). */
  auditRetentionYears: number;
  /** A signed checkpoint of the audit chain every this many events. */
  auditCheckpointEvery: number;
  /** Audit chains that concurrent writers spread over (1–16). */
  auditChains: number;
  /** How long an Idempotency-Key and its answer are kept, in hours. */
  idempotencyWindowHours: number;
  /** Key for the pseudonyms given to research and anonymised consultation (HMAC); set it in production. */
  pseudonymKey: string;
  /** Timeout of one call to an agency FHIR server, in milliseconds. */
  agencyTimeoutMs: number;
  /** The smallest count an aggregate report publishes (small-cell suppression; at least 2). */
  reportMinCell: number;
  /** The periods a report may cover: any of year, quarter, month, range. */
  reportPeriods: ReportPeriodKind[];
  /** People's sign-in to the console (OpenID Connect) and their sessions. */
  signIn: SignInConfig;
  /** Rate limits: the window in seconds, and per client the token requests and API requests in it (0 = none). */
  rateLimitWindowSeconds: number;
  rateLimitToken: number;
  rateLimitApi: number;
  /** Keys fetched from a client's jwks_uri: kept this many seconds; refetched for an unknown kid after the cooldown. */
  jwksCacheSeconds: number;
  jwksCooldownSeconds: number;
}

function int(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`configuration: "${value}" is not a non-negative integer`);
  return n;
}

function bool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

export type ReportPeriodKind = 'year' | 'quarter' | 'month' | 'range';
const PERIOD_KINDS: ReportPeriodKind[] = ['year', 'quarter', 'month', 'range'];

function periodKinds(value: string | undefined): ReportPeriodKind[] {
  if (value === undefined || value.trim() === '') return PERIOD_KINDS;
  const kinds = value.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(PERIOD_KINDS as string[]).includes(k));
  if (unknown.length || kinds.length === 0)
    throw new Error(
      `configuration: REPORT_PERIODS takes ${PERIOD_KINDS.join(', ')}; not ${unknown.join(', ')}`,
    );
  return kinds as ReportPeriodKind[];
}

function minCell(value: string | undefined): number {
  const n = int(value, 5);
  if (n < 2) throw new Error('configuration: REPORT_MIN_CELL must be at least 2 (1 would suppress nothing)');
  return n;
}

function baseUrl(value: string | undefined): string {
  const trimmed = (value ?? '').trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`configuration: BASE_URL "${value}" is not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username)
    throw new Error(`configuration: BASE_URL must be an http(s) URL without query, fragment or credentials`);
  return trimmed;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const policy = env.AGE_TRANSITION_POLICY ?? 'keep-until-withdrawn';
  if (policy !== 'keep-until-withdrawn' && policy !== 'require-renewal') {
    throw new Error(`configuration: AGE_TRANSITION_POLICY must be keep-until-withdrawn or require-renewal`);
  }
  return {
    port: int(env.PORT, 8080),
    baseUrl: baseUrl(env.BASE_URL),
    testMode: env.NODE_ENV === 'test',
    databaseUrl: env.DATABASE_URL ?? '',
    dataDir: env.DATA_DIR ?? './data/db',
    sandbox: bool(env.SANDBOX, false),
    bodyLimit: env.BODY_LIMIT ?? '4mb',
    tokenTtlSeconds: int(env.TOKEN_TTL_SECONDS, 900),
    clientsFile: env.CLIENTS_FILE ?? '',
    logLevel: env.LOG_LEVEL ?? 'info',
    ageTransitionPolicy: policy,
    covenantsDir: env.COVENANTS_DIR ?? '',
    consentEvidencePolicy: evidencePolicy(env.CONSENT_EVIDENCE_POLICY),
    deliveryPollMs: int(env.DELIVERY_POLL_MS, 1000),
    deliveryRetryBaseMs: int(env.DELIVERY_RETRY_BASE_MS, 2000),
    deliveryRetryMaxMs: int(env.DELIVERY_RETRY_MAX_MS, 3_600_000),
    deliveryDeadlineMs: int(env.DELIVERY_DEADLINE_MS, 24 * 3600 * 1000),
    deliveryInProgressAfterMs: int(env.DELIVERY_IN_PROGRESS_AFTER_MS, 250),
    deliveryBatch: Math.max(int(env.DELIVERY_BATCH, 50), 1),
    idempotencyWindowHours: int(env.IDEMPOTENCY_WINDOW_HOURS, 24),
    auditCheckpointEvery: int(env.AUDIT_CHECKPOINT_EVERY, 1000),
    auditChains: Math.min(Math.max(int(env.AUDIT_CHAINS, DEFAULT_AUDIT_CHAINS), 1), MAX_AUDIT_CHAINS),
    auditRetentionYears: int(env.AUDIT_RETENTION_YEARS, 20),
    agencyTimeoutMs: int(env.AGENCY_TIMEOUT_MS, 10_000),
    pseudonymKey: env.PSEUDONYM_KEY ?? 'ketenpoort-development-pseudonym-key',
    reportMinCell: minCell(env.REPORT_MIN_CELL),
    reportPeriods: periodKinds(env.REPORT_PERIODS),
    signIn: loadSignInConfig(env),
    rateLimitWindowSeconds: Math.max(int(env.RATE_LIMIT_WINDOW_SECONDS, 60), 1),
    rateLimitToken: int(env.RATE_LIMIT_TOKEN, 60),
    rateLimitApi: int(env.RATE_LIMIT_API, 6000),
    jwksCacheSeconds: int(env.JWKS_CACHE_SECONDS, 600),
    jwksCooldownSeconds: int(env.JWKS_COOLDOWN_SECONDS, 30),
    ...overrides,
  };
}
