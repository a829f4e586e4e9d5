// POST /fhir/$request-records: decide, then query the source agency, minimise what it returned, and hand it over.
import type { Bundle, BundleEntry, Organization, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { Client } from 'fhir-kit-client';
import { loadCatalogue, type Catalogue } from '../../consent/catalogue.js';
import { DECISION_REASON_SYSTEM } from '../../consent/constants.js';
import { languageOf } from '../../consent/explain.js';
import type { DecisionRequest } from '../../consent/types.js';
import { readResource } from '../../store/resources.js';
import type { HttpContext } from '../context.js';
import {
  auditExplanation,
  auditDecision,
  decisionAudit,
  denial,
  endpointOf,
  reasonText,
  resolveOrganization,
  roleOf,
  runDecision,
  subjectOf,
} from '../../exchange/decisions.js';
import { typesHolding } from '../../consent/classify.js';
import { demand, principalOf, requestIdOf, sendFhir } from '../http.js';
import { audit } from '../../audit/record.js';
import { badGateway, badRequest, FhirError, forbidden, outcome } from '../../fhir/outcomes.js';
import { OperationInput } from '../parameters.js';

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
            `The source returned more ${type} records than one page; the gateway does not hand over incomplete data`,
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
        outcome('timeout', `The source did not answer within ${timeoutMs} ms; no data are returned`),
      );
    }
    if (e.response?.status)
      throw badGateway(`The source answered HTTP ${e.response.status}; no data are returned`);
    throw badGateway('The source could not be reached; no data are returned');
  }
}

export async function requestRecords(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  demand(principal, 'exchange');
  const input = new OperationInput(req.body);
  const subject = subjectOf(input);
  if (subject.kind !== 'person') throw badRequest('$request-records takes one person (a BSN) as subject');
  const source = await resolveOrganization(ctx.db, input, 'source');
  // A pull sends the BSN to the source's server; a research organisation never receives a BSN.
  if (source.role === 'research')
    throw forbidden(
      'Een onderzoeksorganisatie is geen bron: zij ontvangt geen BSN (a research organisation is not a source of records)',
    );
  const categories = input
    .codings('category')
    .map((c) => c.code!)
    .filter(Boolean);
  if (categories.length === 0)
    throw badRequest(
      'Parameter "category" (one or more data categories) is required',
      'Parameters.parameter[category]',
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
    purpose: input.coding('purpose', true),
    categories,
    legalBasis: input.coding('legalBasis'),
    justification: input.string('justification'),
    criteria: input.criteria(),
  };
  const practitioner = input.identifier('practitioner');
  const lang = languageOf(req.get('accept-language'));
  const requestId = requestIdOf(res);
  const auditBase = {
    subtype: 'request-records' as const,
    recipientOrg: principal.org,
    patient: { bsn: subject.value },
    purpose: request.purpose,
    practitioner,
    legalBasis: request.legalBasis,
    justification: request.justification,
  };

  const first = await runDecision(ctx.db, ctx.config, principal, request, subject);
  if (first.decision.decision === 'deny') {
    await auditDecision(ctx.db, principal, first, {
      subtype: 'request-records',
      subject,
      recipientOrg: principal.org,
      practitioner,
      requestId,
    });
    throw denial(first, lang);
  }
  const address = await endpointOf(ctx.db, source, 'source');
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
    ctx.db,
    ctx.config,
    principal,
    { ...request, categories: undefined, payload: pulled },
    subject,
  );
  const { decision } = run;
  const obligations: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      ...decision.reasons.map((r) => ({
        severity: 'information' as const,
        code: 'informational' as const,
        details: { coding: [{ system: DECISION_REASON_SYSTEM, code: r.code }] },
        diagnostics: reasonText(r, lang, true),
      })),
      ...decision.obligations.map((o) => ({
        severity: 'information' as const,
        code: 'informational' as const,
        details: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: o.code }] },
        diagnostics: `${o.code}: ${o.detail}`,
        expression: o.removed ? [o.removed] : undefined,
      })),
    ],
  };
  await ctx.db.transaction((tx) =>
    audit(tx, principal, {
      ...decisionAudit(run, {
        subtype: 'request-records',
        subject,
        recipientOrg: principal.org,
        practitioner,
        requestId,
      }),
      description: `Pulled ${entries.length} record(s) from ${source.reference}. ${auditExplanation(decision)}`,
      entities: [{ reference: source.reference }],
    }),
  );
  if (decision.decision === 'deny') throw denial(run, lang);
  const delivered = decision.delivered!;
  const bundle: Bundle = {
    ...delivered,
    meta: {
      ...delivered.meta,
      security: [
        ...(delivered.meta?.security ?? []),
        {
          system: DECISION_REASON_SYSTEM,
          code: decision.basis === 'legal-exception' ? 'legal-basis-permits' : 'consent-permits',
          display: `decision: permit (${decision.basis})`,
        },
      ],
    },
    entry: [
      ...(delivered.entry ?? []),
      { fullUrl: 'urn:uuid:decision', resource: obligations, search: { mode: 'outcome' } },
    ],
  };
  sendFhir(res, 200, bundle);
}

import { defineOperation } from '../define-operation.js';
import { decisionInputs } from '../operation-spec.js';

export const requestRecordsOperation = defineOperation({
  route: 'POST /fhir/$request-records',
  permission: 'exchange',
  summary: 'Pull records from another agency (consent-checked, minimised)',
  tag: 'Exchanges',
  description:
    'Pulls records from another agency after a consent decision; answers the minimised Bundle, or 403 when denied.',
  input: decisionInputs('source'),
  returns: 'Bundle',
  affectsState: true,
  handler: requestRecords,
});
