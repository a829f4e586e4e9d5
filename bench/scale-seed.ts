// A large synthetic store for the benchmarks at scale (issue #14): people in families with their parents and consents,
// written in bulk with the row shapes the gateway itself writes (src/store/resources.ts), and audit events appended
// through the real audit chain (auditAll → appendAudits → audit_append), so that the chain stays verifiable.
//
// People are the children (Patients), two to a family: each family has a mother and a father with parental authority
// (a RelatedPerson per child, as in fixtures/families), a family Group, and a Consent per child, all registered by the
// CJG. Child A (4–11 years) is consented for by the parents for the GP and the youth care provider; child B (12–15
// years) together with the parents, for the youth care provider only — the two shapes of the Jansen–de Vries fixture.
//
// Synthetic BSNs (all 11-test valid): first those of 999 995 000–999 999 999, a part of the 9999xxxxx test range no
// fixture uses, then counting down from 999 899 999 (below the 9999xxxxx block the fixtures and tests use). 100,000
// people need 200,000 BSNs (children and parents): they reach down to about 997 700 000.
import type {
  Bundle,
  BundleEntry,
  Consent,
  Group,
  Patient,
  RelatedPerson,
  Resource,
} from '@medplum/fhirtypes';
import { AuditLog } from '../src/audit/log.js';
import { auditAll, type AuditRecord, type AuditRequester } from '../src/audit/record.js';
import { personRefsOf, uniqueKeyOf } from '../src/person-index/references.js';
import type { Database } from '../src/store/database.js';
import { BSN_SYSTEM, extractTokens } from '../src/store/resources.js';

export const SCALE_ORG = 'Organization/cjg-venlo';
export const FAMILY_ID_SYSTEM = 'https://ketenpoort.nl/fhir/NamingSystem/family-id';
const PARENTAL_AUTHORITY = 'https://ketenpoort.nl/fhir/StructureDefinition/parental-authority';
const ROLE_CODES = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const IRCP = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
};
const GP = 'Organization/huisartsen-de-linde';
const YOUTH_CARE = 'Organization/jeugdzorg-horizon';

const isValidBsn = (digits: string) => {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(digits[i]);
  return (sum - Number(digits[8])) % 11 === 0;
};

/** The first `count` synthetic BSNs (see the top of this file). */
export function scaleBsns(count: number): string[] {
  const out: string[] = [];
  const walk = (from: number, to: number) => {
    for (let n = from; n >= to && out.length < count; n--) {
      const s = String(n);
      if (isValidBsn(s)) out.push(s);
    }
  };
  walk(999_999_999, 999_995_000);
  walk(999_899_999, 900_000_000);
  if (out.length < count) throw new Error(`no more than ${out.length} synthetic BSNs`);
  return out;
}

const FAMILY_NAMES = [
  'Bakker',
  'Visser',
  'Smit',
  'Meijer',
  'Mulder',
  'de Boer',
  'Bos',
  'Vos',
  'Peters',
  'Hendriks',
];
const GIVEN = {
  female: ['Sophie', 'Julia', 'Mila', 'Tess', 'Sara', 'Anna', 'Evi', 'Lotte', 'Noor', 'Fenna'],
  male: ['Daan', 'Sem', 'Lucas', 'Levi', 'Finn', 'Milan', 'Bram', 'Luuk', 'Jesse', 'Thijs'],
};

/** A deterministic id per family and role (a version-4 shaped UUID). */
const idOf = (family: number, role: number) =>
  `5ca1e000-0000-4000-8000-${(family * 8 + role).toString(16).padStart(12, '0')}`;

const dateOnly = (d: Date) => d.toISOString().slice(0, 10);
function yearsBefore(now: Date, years: number, days: number): string {
  return dateOnly(
    new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate() - days)),
  );
}

/**
 * Family `f` as the transaction Bundle a CJG would post (fullUrls `urn:uuid:<id>`): two children, their mother and
 * father (a RelatedPerson per child), the family Group and a Consent per child. `bsns` are four: child A, child B,
 * mother, father. Ages and consent periods are taken relative to `now`.
 */
export function scaleFamily(f: number, bsns: string[], now: Date): Bundle {
  const family = FAMILY_NAMES[f % FAMILY_NAMES.length]!;
  const urn = (role: number) => `urn:uuid:${idOf(f, role)}`;
  const ident = (bsn: string) => [{ system: BSN_SYSTEM, value: bsn }];
  const child = (role: number, bsn: string, gender: 'female' | 'male', age: number): Patient => ({
    resourceType: 'Patient',
    identifier: ident(bsn),
    name: [{ given: [GIVEN[gender][(f + role) % 10]!], family }],
    gender,
    birthDate: yearsBefore(now, age, 30 + (f % 300)),
  });
  const parent = (childRole: number, bsn: string, code: 'MTH' | 'FTH', given: string): RelatedPerson => ({
    resourceType: 'RelatedPerson',
    extension: [{ url: PARENTAL_AUTHORITY, valueBoolean: true }],
    patient: { reference: urn(childRole) },
    identifier: ident(bsn),
    relationship: [{ coding: [{ system: ROLE_CODES, code }] }],
    name: [{ given: [given], family: code === 'MTH' ? FAMILY_NAMES[(f + 3) % 10]! : family }],
  });
  const start = new Date(now.getTime() - 30 * 86_400_000);
  const consent = (
    childRole: number,
    performers: number[],
    actors: string[],
    purposes: string[],
  ): Consent => ({
    resourceType: 'Consent',
    status: 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: urn(childRole) },
    dateTime: start.toISOString(),
    performer: performers.map((r) => ({ reference: urn(r) })),
    organization: [{ reference: SCALE_ORG }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: dateOnly(start), end: yearsBefore(now, -1, 30) },
      actor: actors.map((reference) => ({ role: IRCP, reference: { reference } })),
      purpose: purposes.map((code) => ({ system: ACT_REASON, code })),
    },
  });
  const [a, b, mother, father] = bsns as [string, string, string, string];
  const mom = GIVEN.female[(f + 5) % 10]!;
  const dad = GIVEN.male[(f + 7) % 10]!;
  const group: Group = {
    resourceType: 'Group',
    type: 'person',
    actual: true,
    name: `Gezin ${family}`,
    identifier: [{ system: FAMILY_ID_SYSTEM, value: `scale-gezin-${String(f).padStart(6, '0')}` }],
    member: [0, 1, 2, 3].map((r) => ({ entity: { reference: urn(r) } })),
  };
  const resources: [number, Resource][] = [
    [0, child(0, a, f % 2 ? 'female' : 'male', 4 + (f % 8))],
    [1, child(1, b, f % 2 ? 'male' : 'female', 12 + (f % 4))],
    [2, parent(0, mother, 'MTH', mom)],
    [3, parent(0, father, 'FTH', dad)],
    [4, parent(1, mother, 'MTH', mom)],
    [5, parent(1, father, 'FTH', dad)],
    [6, group],
    [7, consent(0, [2, 3], [GP, YOUTH_CARE], ['CAREMGT', 'TREAT'])],
    [8, consent(1, [1, 4, 5], [YOUTH_CARE], ['CAREMGT'])],
  ];
  const entry: BundleEntry[] = resources.map(([role, resource]) => ({
    fullUrl: urn(role),
    resource,
    request: {
      method: 'POST',
      url: resource.resourceType,
      ...(resource.resourceType === 'Patient'
        ? { ifNoneExist: `identifier=${BSN_SYSTEM}|${(resource as Patient).identifier![0]!.value}` }
        : resource.resourceType === 'Group'
          ? { ifNoneExist: `identifier=${FAMILY_ID_SYSTEM}|${group.identifier![0]!.value}` }
          : {}),
    },
  }));
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** The family's resources as the gateway stores them: ids from the fullUrls, urn:uuid references made literal. */
function storedFamily(bundle: Bundle, lastUpdated: Date): Resource[] {
  const literal = new Map(
    (bundle.entry ?? []).map((e) => [e.fullUrl!, `${e.resource!.resourceType}/${e.fullUrl!.slice(9)}`]),
  );
  const resolve = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(resolve)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v).map(([k, x]) => [
              k,
              k === 'reference' && typeof x === 'string' && literal.has(x) ? literal.get(x) : resolve(x),
            ]),
          )
        : v;
  return (bundle.entry ?? []).map((e) => ({
    ...(resolve(e.resource) as Resource),
    id: e.fullUrl!.slice(9),
    meta: { versionId: '1', lastUpdated: lastUpdated.toISOString() },
  }));
}

export interface ScaleOptions {
  /** Children (Patients); rounded up to an even number (two per family). */
  people: number;
  auditEvents: number;
  /** Families per transaction (default 1,000: 9,000 resources) and audit events per append (default 5,000). */
  familiesPerBatch?: number;
  auditPerBatch?: number;
  now?: Date;
  log?: (line: string) => void;
}

export interface ScaleResult {
  people: number;
  families: number;
  resources: number;
  auditEvents: number;
  seconds: { resources: number; audit: number; analyze: number };
  /** pg_database_size after seeding. */
  bytes: number;
}

const INSERT_RESOURCES = `WITH rows AS (
    SELECT * FROM json_to_recordset($1::json) AS t(type text, id text, last_updated timestamptz, unique_key text, content jsonb)),
  created AS (
    INSERT INTO resources (type, id, version_id, last_updated, unique_key, content)
    SELECT type, id, 1, last_updated, unique_key, content FROM rows RETURNING type, id, last_updated, content)
  INSERT INTO resource_history (type, id, version_id, valid_from, content)
  SELECT type, id, 1, last_updated, content FROM created`;
const INSERT_TOKENS = `INSERT INTO resource_tokens (type, id, param, system, value)
  SELECT type, id, param, system, value FROM json_to_recordset($1::json) AS t(type text, id text, param text, system text, value text)`;
const INSERT_ORGS = `INSERT INTO resource_orgs (type, id, org)
  SELECT type, id, $2 FROM json_to_recordset($1::json) AS t(type text, id text) ON CONFLICT DO NOTHING`;

export interface FamilyRows {
  resources: {
    type: string;
    id: string;
    last_updated: string;
    unique_key: string | null;
    content: Resource;
  }[];
  tokens: { type: string; id: string; param: string; system: string; value: string }[];
}

/**
 * The rows family `f` adds, as createResource writes them for a CJG's transaction: the resource (also its first
 * history version), its search tokens, its unique key; resource_orgs names the CJG for each.
 */
export function familyRows(f: number, bsns: string[], now: Date, lastUpdated: Date): FamilyRows {
  const resources = storedFamily(scaleFamily(f, bsns, now), lastUpdated);
  for (const r of resources)
    for (const { ref } of personRefsOf(r))
      if (!ref.includes('/')) throw new Error(`unresolved reference in ${r.resourceType}/${r.id}`);
  return {
    resources: resources.map((r) => ({
      type: r.resourceType,
      id: r.id!,
      last_updated: r.meta!.lastUpdated!,
      unique_key: uniqueKeyOf(r, SCALE_ORG),
      content: r,
    })),
    tokens: resources.flatMap((r) =>
      extractTokens(r).map((t) => ({ type: r.resourceType, id: r.id!, ...t })),
    ),
  };
}

/** Adds the resources of families [from, to): one transaction, three statements. */
async function writeFamilies(
  db: Database,
  from: number,
  to: number,
  bsns: string[],
  now: Date,
): Promise<number> {
  const rows: FamilyRows = { resources: [], tokens: [] };
  for (let f = from; f < to; f++) {
    // Each family a millisecond apart, so that searches sorted by last_updated see them in order.
    const family = familyRows(f, bsns.slice(4 * f, 4 * f + 4), now, new Date(now.getTime() - (to - f)));
    rows.resources.push(...family.resources);
    rows.tokens.push(...family.tokens);
  }
  await db.transaction(async (tx) => {
    await tx.query(INSERT_RESOURCES, [JSON.stringify(rows.resources)]);
    await tx.query(INSERT_TOKENS, [JSON.stringify(rows.tokens)]);
    await tx.query(INSERT_ORGS, [
      JSON.stringify(rows.resources.map(({ type, id }) => ({ type, id }))),
      SCALE_ORG,
    ]);
  });
  return rows.resources.length;
}

const REQUESTERS: AuditRequester[] = [
  { org: SCALE_ORG, clientId: 'sandbox-cjg' },
  { org: YOUTH_CARE, clientId: 'sandbox-youth-care' },
  { org: GP, clientId: 'sandbox-gp' },
];

/** The i-th synthetic audit record: decisions, exchanges and reads about the seeded people, oldest first. */
function auditRecord(i: number, total: number, families: number, bsns: string[], now: Date) {
  const f = (i * 7919) % families;
  const role = i % 2;
  const bsn = bsns[4 * f + role]!;
  const patient = { bsn, reference: `Patient/${idOf(f, role)}` };
  const consent = `Consent/${idOf(f, 7 + role)}`;
  const requester = REQUESTERS[i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2]!;
  // Spread over the year before now, in order.
  const recorded = new Date(now.getTime() - 365 * 86_400_000 + Math.floor((i / total) * 365 * 86_400_000));
  const purpose = { system: ACT_REASON, code: 'CAREMGT' };
  const kind = i % 20;
  const input: AuditRecord =
    kind < 12
      ? {
          subtype: 'consent-decision',
          outcome: role === 0 ? 'success' : 'denied',
          description: `Synthetic scale record ${i}: a decision about ${patient.reference} for ${GP}.`,
          recipientOrg: GP,
          patient,
          purpose,
          consents: role === 0 ? [consent] : [],
          details: { requestId: `scale-${i}` },
          recorded,
        }
      : kind < 16
        ? {
            subtype: 'exchange',
            outcome: 'success',
            description: `Synthetic scale record ${i}: an exchange about ${patient.reference} to ${YOUTH_CARE}.`,
            recipientOrg: YOUTH_CARE,
            patient,
            purpose,
            consents: [consent],
            details: { requestId: `scale-${i}` },
            recorded,
          }
        : {
            subtype: 'read',
            outcome: 'success',
            description: `${patient.reference} read`,
            patient,
            entities: [{ reference: patient.reference }],
            recorded,
          };
  return { requester, input };
}

const seconds = (since: number) => (performance.now() - since) / 1000;
const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Adds `people` synthetic people in families (with parents, Group and Consents) and `auditEvents` audit events to a
 * migrated database, in batches, printing a progress line per batch. The database should hold no synthetic people yet
 * (ids and unique keys would collide); the sandbox loads its fixtures on top as usual.
 */
export async function seedScale(db: Database, opts: ScaleOptions): Promise<ScaleResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const now = opts.now ?? new Date();
  const families = Math.ceil(opts.people / 2);
  const perBatch = opts.familiesPerBatch ?? 1000;
  const bsns = scaleBsns(4 * families);
  let started = performance.now();
  let resources = 0;
  for (let from = 0; from < families; from += perBatch) {
    const to = Math.min(from + perBatch, families);
    resources += await writeFamilies(db, from, to, bsns, now);
    log(
      `  seed: ${fmt(2 * to)} of ${fmt(2 * families)} people, ${fmt(resources)} resources (${seconds(started).toFixed(1)} s)`,
    );
  }
  const resourceSeconds = seconds(started);
  started = performance.now();
  const auditBatch = opts.auditPerBatch ?? 5000;
  // The seeded log has the default chains and no signed checkpoints (a gateway started on it signs from then on).
  const audited = db.withServices(new AuditLog());
  for (let from = 0; from < opts.auditEvents; from += auditBatch) {
    const to = Math.min(from + auditBatch, opts.auditEvents);
    const records = Array.from({ length: to - from }, (_, k) =>
      auditRecord(from + k, opts.auditEvents, families, bsns, now),
    );
    await audited.transaction((tx) => auditAll(tx, records));
    log(`  seed: ${fmt(to)} of ${fmt(opts.auditEvents)} audit events (${seconds(started).toFixed(1)} s)`);
  }
  const auditSeconds = seconds(started);
  // Planner statistics, as a database in use would have them.
  started = performance.now();
  await db.query('ANALYZE');
  const analyzeSeconds = seconds(started);
  const [size] = await db.query<{ bytes: string }>(
    'SELECT pg_database_size(current_database())::text AS bytes',
  );
  return {
    people: 2 * families,
    families,
    resources,
    auditEvents: opts.auditEvents,
    seconds: { resources: resourceSeconds, audit: auditSeconds, analyze: analyzeSeconds },
    bytes: Number(size?.bytes ?? 0),
  };
}

/** BENCH_PEOPLE / BENCH_AUDIT_EVENTS, when either is set. */
export function scaleFromEnv(env: NodeJS.ProcessEnv): { people: number; auditEvents: number } | undefined {
  const people = Number(env.BENCH_PEOPLE ?? 0);
  const auditEvents = Number(env.BENCH_AUDIT_EVENTS ?? 0);
  if (!(people > 0) && !(auditEvents > 0)) return undefined;
  if (auditEvents > 0 && !(people > 0))
    throw new Error('BENCH_AUDIT_EVENTS needs BENCH_PEOPLE (whom they are about)');
  return { people, auditEvents: auditEvents > 0 ? auditEvents : 0 };
}
