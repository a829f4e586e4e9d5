// GET /fhir/Patient/$access-report: for privacy officers, for the person (12 and over), and for parents with gezag of a child under 16.
import type { AuditEvent, Organization } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { REPORT_SUBTYPES, reportHtml, reportLines } from '../../audit/access-report.js';
import { PERSON_SQL } from '../../audit/search.js';
import { ageOn } from '../../time/amsterdam.js';
import { loadCatalogue } from '../../consent/catalogue.js';
import { BSN_SYSTEM } from '../../consent/constants.js';
import { gezagAgreed } from '../../person-index/registrations.js';
import { isValidBsn } from '../../mappings/bsn.js';
import type { Principal } from '../../auth/access.js';
import type { HttpContext } from '../context.js';
import { loadFacts } from '../../person-index/facts.js';
import { baseUrlOf, principalOf, sendFhir, sendHtml, wantsHtml } from '../http.js';
import { audit } from '../../audit/record.js';
import { badRequest, forbidden, notFound } from '../../fhir/outcomes.js';
import { defineOperation } from '../define-operation.js';
import { personIdentifier } from '../operation-spec.js';

/** Whether a person may see this report: their own from 12, or their child's under 16 when they hold gezag. */
export async function mayRead(
  ctx: HttpContext,
  principal: Principal,
  bsn: string,
  at: Date,
): Promise<boolean> {
  if (principal.role === 'privacy-officer') return true;
  if (principal.role !== 'person' || !principal.patient) return false;
  const facts = await loadFacts(ctx.db, {
    kind: 'person',
    value: bsn,
    identifier: { system: BSN_SYSTEM, value: bsn },
  });
  const subject = facts.subject;
  const disputed = new Set([...facts.conflicts.map((c) => c.fact), ...facts.unsettled]);
  // A disputed birth date or parental authority opens nothing until a privacy officer has settled it.
  if (disputed.has('birthDate')) return false;
  if (!subject?.birthDate) return principal.patient === bsn;
  const age = ageOn(subject.birthDate, at);
  if (principal.patient === bsn) return age >= 12;
  return (
    age < 16 &&
    !disputed.has('parentalAuthority') &&
    gezagAgreed(facts.gezagByRegistration, principal.patient)
  );
}

/** The person an overview is about: the BSN of its `identifier` query parameter (`<bsn-system>|<bsn>` or the BSN). */
export function askedBsn(req: Request): string {
  const identifier = typeof req.query.identifier === 'string' ? req.query.identifier : '';
  const [system, bsn] = identifier.includes('|') ? identifier.split('|', 2) : [BSN_SYSTEM, identifier];
  if (system !== BSN_SYSTEM || !bsn || !isValidBsn(bsn))
    throw badRequest(`identifier must be ${BSN_SYSTEM}|<BSN>`);
  return bsn;
}

export async function accessReport(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const at = ctx.clock();
  const bsn = askedBsn(req);
  if (!(await mayRead(ctx, principal, bsn, at))) {
    throw principal.role === 'person'
      ? forbidden(
          'You may see the report of yourself (from 12) or of your child under 16 for whom you hold parental authority',
        )
      : notFound();
  }
  const events = (
    await ctx.db.query<{ content: AuditEvent }>(
      `SELECT content FROM audit_events WHERE ${PERSON_SQL('$1')} AND subtype = ANY($2::text[]) ORDER BY seq DESC LIMIT 5000`,
      [bsn, [...REPORT_SUBTYPES]],
    )
  ).map((r) => r.content);
  await ctx.db.transaction((tx) =>
    audit(tx, principal, {
      subtype: 'audit-read',
      outcome: 'success',
      description: `Access report for BSN ${bsn} (${events.length} lines)`,
      patient: { bsn },
    }),
  );
  const orgIds = [
    ...new Set(
      events.flatMap((e) =>
        (e.agent ?? [])
          .map((a) => a.who?.reference)
          .filter((r): r is string => !!r?.startsWith('Organization/')),
      ),
    ),
  ];
  const orgNames = new Map<string, string>();
  for (const ref of orgIds) {
    const rows = await ctx.db.query<{ content: Organization }>(
      `SELECT content FROM resources WHERE type = 'Organization' AND id = $1`,
      [ref.split('/')[1]],
    );
    if (rows[0]?.content.name) orgNames.set(ref, rows[0].content.name);
  }
  const legalNames = new Map([...loadCatalogue().legalBases.values()].map((b) => [b.code, b.law]));
  const lines = reportLines(events, orgNames, legalNames);
  if (wantsHtml(req)) {
    sendHtml(res, reportHtml(bsn, lines, at));
    return;
  }
  const base = baseUrlOf(ctx, req);
  sendFhir(res, 200, {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: at.toISOString(),
    identifier: { system: BSN_SYSTEM, value: bsn },
    entry: events.map((e, i) => ({
      fullUrl: `${base}/fhir/AuditEvent/${e.id}`,
      resource: {
        ...e,
        // The report shows each line's reader in plain words; the event itself stays as logged.
        extension: [
          {
            url: 'https://ketenpoort.nl/fhir/StructureDefinition/access-report-line',
            valueString: `${lines[i]!.organisationName} ${lines[i]!.action} (${lines[i]!.purpose}; ${lines[i]!.basis}; ${lines[i]!.outcome})`,
          },
        ],
      },
    })),
  });
}

export const accessReportOperation = defineOperation({
  route: 'GET /fhir/Patient/$access-report',
  permission: 'access-report',
  summary: "Who received or read a person's data (FHIR or Accept: text/html)",
  tag: 'Audit and oversight',
  description: "Who received or read a person's data, when, for what purpose and on which basis.",
  input: [personIdentifier],
  returns: 'Bundle',
  affectsState: false,
  handler: accessReport,
});
