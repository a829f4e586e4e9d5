// The client access report: who received or read a person's data, when, why and on which basis — as FHIR and as a Dutch page.
import { dutchMoment, escapeHtml as escape, htmlPage } from '../html.js';
import type { AuditEvent } from '@medplum/fhirtypes';

export const REPORT_SUBTYPES = [
  'exchange',
  'request-records',
  'consent-decision',
  'read',
  'search',
  'refusal',
] as const;

const ACTION_NL: Record<string, string> = {
  exchange: 'ontving gegevens',
  'request-records': 'vroeg gegevens op',
  'consent-decision': 'vroeg of gegevens gedeeld mochten worden',
  read: 'bekeek gegevens in de persoonsindex',
  search: 'zocht in de persoonsindex',
  refusal: 'probeerde gegevens in te zien of te wijzigen en werd geweigerd',
};
/** Reads of delivery records (Tasks, notices) are told apart from reads of the person index. */
const DELIVERY_NL: Record<string, string> = {
  read: 'bekeek een levering van gegevens',
  search: 'zocht in de leveringen van gegevens',
};
const PURPOSE_NL: Record<string, string> = {
  CAREMGT: 'zorgcoördinatie',
  TREAT: 'behandeling',
  HRESCH: 'onderzoek',
  PUBHLTH: 'publieke gezondheid',
  HOPERAT: 'bedrijfsvoering',
};
const OUTCOME_NL: Record<string, string> = { '0': 'toegestaan', '4': 'geweigerd', '8': 'mislukt' };

export interface ReportLine {
  when: string;
  organisation: string;
  organisationName: string;
  action: string;
  purpose: string;
  basis: string;
  outcome: string;
}

const subtypeOf = (e: AuditEvent) => e.subtype?.[0]?.code ?? '';
const aboutDelivery = (e: AuditEvent) =>
  !!e.entity?.some((x) => /^(Task|Communication)\//.test(x.what?.reference ?? '') && !x.role);

/** The organisation that received or read: the recipient of an exchange, otherwise the requester. */
function organisationOf(e: AuditEvent): string {
  const destination = e.agent?.find((a) => a.type?.coding?.[0]?.code === '110152')?.who?.reference;
  return (subtypeOf(e) === 'exchange' ? destination : undefined) ?? e.agent?.[0]?.who?.reference ?? 'unknown';
}

function basisOf(e: AuditEvent, legalNames: Map<string, string>): string {
  const legal = e.entity?.find((x) => x.description?.startsWith('basis: legal exception'))?.what?.identifier
    ?.value;
  if (legal) return `wettelijke grondslag: ${legalNames.get(legal) ?? legal}`;
  if (e.entity?.some((x) => x.description === 'basis: consent')) return 'toestemming';
  return e.outcome === '0' ? 'eigen registratie' : '—';
}

export function reportLines(
  events: AuditEvent[],
  orgNames: Map<string, string>,
  legalNames: Map<string, string>,
): ReportLine[] {
  return events.map((e) => {
    const org = organisationOf(e);
    const purpose = e.purposeOfEvent?.[0]?.coding?.[0]?.code ?? '';
    return {
      when: e.recorded,
      organisation: org,
      organisationName: orgNames.get(org) ?? org,
      action:
        (aboutDelivery(e) ? DELIVERY_NL[subtypeOf(e)] : undefined) ?? ACTION_NL[subtypeOf(e)] ?? subtypeOf(e),
      purpose: PURPOSE_NL[purpose] ?? (purpose || '—'),
      basis: basisOf(e, legalNames),
      outcome: OUTCOME_NL[e.outcome ?? ''] ?? e.outcome ?? '',
    };
  });
}

export function reportHtml(bsn: string, lines: ReportLine[], generatedAt: Date): string {
  const rows = lines
    .map(
      (l) =>
        `<tr><td>${escape(dutchMoment.format(new Date(l.when)))}</td><td>${escape(l.organisationName)}</td><td>${escape(l.action)}</td><td>${escape(l.purpose)}</td><td>${escape(l.basis)}</td><td>${escape(l.outcome)}</td></tr>`,
    )
    .join('\n');
  return htmlPage(
    'Wie heeft gegevens ingezien of ontvangen?',
    `<h1>Wie heeft uw gegevens ingezien of ontvangen?</h1>
<p>Overzicht voor BSN <strong>${escape(bsn)}</strong>, opgesteld op ${escape(dutchMoment.format(generatedAt))}. Hierin staat elke keer dat een organisatie via Ketenpoort gegevens over deze persoon ontving, opvroeg of bekeek, met het doel en de grondslag (toestemming of een wettelijke uitzondering). Ook geweigerde verzoeken staan erin.</p>
<table>
<caption>${lines.length} ${lines.length === 1 ? 'registratie' : 'registraties'}</caption>
<thead><tr><th scope="col">Wanneer</th><th scope="col">Organisatie</th><th scope="col">Wat</th><th scope="col">Doel</th><th scope="col">Grondslag</th><th scope="col">Uitkomst</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6">Er zijn geen registraties.</td></tr>'}
</tbody></table>
<p class="muted">Vragen over dit overzicht? Neem contact op met de functionaris gegevensbescherming van uw gemeente.</p>`,
  );
}
