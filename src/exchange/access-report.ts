// The access report as a use case: who may read a person's overviews (this report and $permissions), and the report's
// lines, the read of it audited.
import type { AuditEvent, Organization } from '@medplum/fhirtypes';
import { reportEvents, reportLines, type ReportLine } from '../audit/access-report.js';
import { audit } from '../audit/record.js';
import type { Principal } from '../auth/access.js';
import { loadCatalogue } from '../consent/catalogue.js';
import { BSN_SYSTEM } from '../consent/constants.js';
import { forbidden, notFound } from '../fhir/outcomes.js';
import { loadFacts } from '../person-index/facts.js';
import { gezagAgreed } from '../person-index/registrations.js';
import type { Database, Queryable } from '../store/database.js';
import { readResource } from '../store/resources.js';
import { ageOn } from '../time/amsterdam.js';

/** Whether a person may see this report: their own from 12, or their child's under 16 when they hold gezag. */
export async function mayRead(db: Queryable, principal: Principal, bsn: string, at: Date): Promise<boolean> {
  if (principal.role === 'privacy-officer') return true;
  if (principal.role !== 'person' || !principal.patient) return false;
  const facts = await loadFacts(db, {
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

export interface AccessReport {
  /** The audit events of the report, newest first. */
  events: AuditEvent[];
  /** One line for each event, in plain (Dutch) words. */
  lines: ReportLine[];
}

/** The access report about the person with this BSN, for a principal that may read it; the read is audited. */
export async function accessReport(
  db: Database,
  principal: Principal,
  bsn: string,
  at: Date,
): Promise<AccessReport> {
  if (!(await mayRead(db, principal, bsn, at))) {
    throw principal.role === 'person'
      ? forbidden(
          'U mag het overzicht van uzelf zien (vanaf 12 jaar) of van uw kind onder de 16 over wie u het gezag hebt / You may see the report of yourself (from 12) or of your child under 16 for whom you hold parental authority',
        )
      : notFound();
  }
  const events = await reportEvents(db, bsn);
  await db.transaction((tx) =>
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
    const org = await readResource<Organization>(db, 'Organization', ref.split('/')[1]!);
    if (org?.resource.name) orgNames.set(ref, org.resource.name);
  }
  const legalNames = new Map([...loadCatalogue().legalBases.values()].map((b) => [b.code, b.law]));
  return { events, lines: reportLines(events, orgNames, legalNames) };
}
