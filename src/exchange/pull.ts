// $request-records as a use case: decide, then query the source agency, minimise what it returned, and hand it over.
import type { Bundle, BundleEntry, Coding, Identifier, Organization, Resource } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import { loadCatalogue, type Catalogue } from '../consent/catalogue.js';
import type { DecisionRequest } from '../consent/types.js';
import { readResource } from '../store/resources.js';
import type { Principal } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import type { Subject } from '../person-index/facts.js';
import { typesHolding } from '../consent/classify.js';
import { audit } from '../audit/record.js';
import { badGateway, FhirError, forbidden, outcome } from '../fhir/outcomes.js';
import { auditDecision, decisionAudit, type DecisionAuditOptions } from './decision-audit.js';
import { decisionServices, runDecision, type DecisionRun } from './decisions.js';
import { endpointOf, resolveOrganization, roleOf, type OrganizationRef } from './parties.js';
import { auditExplanation } from './reasons.js';

/** What a pull asks, as plain values: one person, the source agency, purpose, categories and basis. */
export interface PullQuestion {
  subject: Subject & { kind: 'person' };
  source: OrganizationRef;
  purpose: Coding;
  categories: string[];
  legalBasis?: Coding;
  justification?: string;
  criteria: Record<string, string | boolean>;
  practitioner?: Identifier;
}

/** The resource types that can hold data of a category, read from the classification table. */
export function typesFor(categories: string[], catalogue: Catalogue): string[] {
  return typesHolding(categories, catalogue);
}

/** Fetches the subject's records from the source's FHIR server; any failure is the whole request's failure. */
async function fetchRecords(
  address: string,
  bsnSystem: string,
  bsn: string,
  types: string[],
  timeoutMs: number,
): Promise<BundleEntry[]> {
  const client = new Client({ baseUrl: address });
  const options = () => ({ signal: AbortSignal.timeout(timeoutMs) });
  try {
    const patients = (await client.search({
      resourceType: 'Patient',
      searchParams: { identifier: `${bsnSystem}|${bsn}` },
      options: options(),
    })) as unknown as Bundle;
    const entries: BundleEntry[] = [];
    for (const patient of (patients.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r)) {
      entries.push({ fullUrl: `${address}/Patient/${patient.id}`, resource: patient });
      for (const type of types.filter((t) => t !== 'Patient')) {
        const found = (await client.search({
          resourceType: type,
          searchParams: { patient: `Patient/${patient.id}` },
          options: options(),
        })) as unknown as Bundle;
        if (found.link?.some((l) => l.relation === 'next')) {
          throw badGateway(
            `De bron gaf meer ${type}-gegevens dan er op één pagina passen; de gateway geeft geen onvolledige gegevens door / The source returned more ${type} records than one page; the gateway does not hand over incomplete data`,
          );
        }
        for (const e of found.entry ?? [])
          if (e.resource)
            entries.push({ fullUrl: `${address}/${type}/${e.resource.id}`, resource: e.resource });
      }
    }
    return entries;
  } catch (err) {
    if (err instanceof FhirError) throw err;
    const e = err as { name?: string; response?: { status?: number } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new FhirError(
        504,
        outcome(
          'timeout',
          `De bron antwoordde niet binnen ${timeoutMs} ms; er worden geen gegevens teruggegeven / The source did not answer within ${timeoutMs} ms; no data are returned`,
        ),
      );
    }
    if (e.response?.status)
      throw badGateway(
        `De bron antwoordde met HTTP ${e.response.status}; er worden geen gegevens teruggegeven / The source answered HTTP ${e.response.status}; no data are returned`,
      );
    throw badGateway(
      'De bron was niet bereikbaar; er worden geen gegevens teruggegeven / The source could not be reached; no data are returned',
    );
  }
}

/**
 * Decides the pull, fetches the person's records from the source, and decides again on what came back: the run whose
 * decision is a deny (audited) or a permit with the minimised records in `decision.delivered`.
 */
export async function pullRecords(
  ctx: GatewayContext,
  principal: Principal,
  q: PullQuestion,
  opts: { at: Date; requestId?: string },
): Promise<DecisionRun> {
  const { subject, practitioner } = q;
  const services = decisionServices(ctx);
  const source = await resolveOrganization(services, q.source, 'source');
  // A pull sends the BSN to the source's server; a research organisation never receives a BSN.
  if (source.role === 'research')
    throw forbidden(
      'Een onderzoeksorganisatie is geen bron: zij ontvangt geen BSN (a research organisation is not a source of records)',
    );
  const requester = (
    await readResource<Organization>(ctx.db, 'Organization', principal.org.split('/')[1] ?? '')
  )?.resource;
  const request: DecisionRequest = {
    requesterOrg: principal.org,
    requesterRole: principal.role,
    // The data flow to the requester: it is the recipient the consent or basis must allow.
    recipientOrg: principal.org,
    recipientRole: requester ? roleOf(requester) : principal.role,
    recipientIdentifiers: requester?.identifier,
    // The source discloses: a provision naming it governs its act (disclose).
    senderOrg: source.reference,
    senderRole: source.role,
    subjectBsn: subject.value,
    subjectKind: 'person',
    purpose: q.purpose,
    categories: q.categories,
    legalBasis: q.legalBasis,
    justification: q.justification,
    criteria: q.criteria,
  };
  const requestId = opts.requestId;
  const auditBase = {
    subtype: 'request-records' as const,
    recipientOrg: principal.org,
    patient: { bsn: subject.value },
    purpose: request.purpose,
    practitioner,
    legalBasis: request.legalBasis,
    justification: request.justification,
  };

  // Both decisions of a pull (before the fetch, and on what came back) are recorded alike.
  const recordAs: DecisionAuditOptions = {
    subtype: 'request-records',
    subject,
    recipientOrg: principal.org,
    practitioner,
    requestId,
    at: opts.at,
  };
  const first = await runDecision(services, principal, request, subject, { at: opts.at });
  if (first.decision.decision === 'deny') {
    await auditDecision(ctx, principal, first, recordAs);
    return first;
  }
  const address = await endpointOf(services, source, 'source');
  const allowed = first.decision.disclosed;
  let entries: BundleEntry[];
  try {
    entries = await fetchRecords(
      address,
      subject.identifier.system!,
      subject.value,
      typesFor(allowed, loadCatalogue()),
      ctx.config.agencyTimeoutMs,
    );
  } catch (err) {
    const message = err instanceof FhirError ? (err.outcome.issue?.[0]?.diagnostics ?? '') : String(err);
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        ...auditBase,
        outcome: 'error',
        description: `Pull from ${source.reference} failed: ${message}`,
        entities: [{ reference: source.reference }],
      }),
    );
    throw err;
  }
  const pulled: Bundle = { resourceType: 'Bundle', type: 'collection', entry: entries };
  const run = await runDecision(
    ctx,
    principal,
    { ...request, categories: undefined, payload: pulled },
    subject,
    { at: opts.at },
  );
  const { decision } = run;
  await ctx.db.transaction((tx) =>
    audit(tx, principal, {
      ...decisionAudit(run, recordAs),
      description: `Pulled ${entries.length} record(s) from ${source.reference}. ${auditExplanation(decision)}`,
      entities: [{ reference: source.reference }],
    }),
  );
  return run;
}
