// The client access report: who received or read a person's data, when, why and on which basis — as FHIR and as a Dutch page.
import { escapeHtml as escape, htmlPage } from '../html.js';
import { dutchMoment } from '../time/amsterdam.js';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Queryable } from '../store/database.js';
import { PERSON_SQL } from './search.js';

export const REPORT_SUBTYPES = [
  'exchange',
  'request-records',
  'consent-decision',
  'read',
  'search',
  'refusal',
] as const;

/** The events of the report about a person, newest first (at most 5000). */
export async function reportEvents(db: Queryable, bsn: string): Promise<AuditEvent[]> {
  const rows = await db.query<{ content: AuditEvent }>(
    `SELECT content FROM audit_events WHERE ${PERSON_SQL('$1')} AND subtype = ANY($2::text[]) ORDER BY seq DESC LIMIT 5000`,
    [bsn, [...REPORT_SUBTYPES]],
  );
  return rows.map((r) => r.content);
}

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

/** What a refused request is called: never "received", since nothing was sent. */
const REFUSED_NL: Record<string, string> = {
  exchange: 'zou gegevens ontvangen; het verzoek is geweigerd, er is niets verstuurd',
  'request-records': 'vroeg gegevens op; het verzoek is geweigerd',
  'consent-decision': 'vroeg of gegevens gedeeld mochten worden; het antwoord was nee',
};

export interface ReportLine {
  when: string;
  /** The organisation that received, asked for or looked at the data. */
  organisation: string;
  organisationName: string;
  /** The organisation that sent it (exchanges only); empty otherwise. */
  sender: string;
  senderName: string;
  action: string;
  purpose: string;
  basis: string;
  outcome: string;
  refused: boolean;
}

const subtypeOf = (e: AuditEvent) => e.subtype?.[0]?.code ?? '';
const aboutDelivery = (e: AuditEvent) =>
  !!e.entity?.some((x) => /^(Task|Communication)\//.test(x.what?.reference ?? '') && !x.role);

/** The organisation that received or read: the recipient of an exchange, otherwise the requester. */
function organisationOf(e: AuditEvent): string {
  const destination = e.agent?.find((a) => a.type?.coding?.[0]?.code === '110152')?.who?.reference;
  return (subtypeOf(e) === 'exchange' ? destination : undefined) ?? e.agent?.[0]?.who?.reference ?? 'unknown';
}

/** The sender of an exchange (its requester); other events have none. */
function senderOf(e: AuditEvent): string {
  return subtypeOf(e) === 'exchange' ? (e.agent?.[0]?.who?.reference ?? '') : '';
}

function basisOf(e: AuditEvent, legalNames: Map<string, string>): string {
  const legal = e.entity?.find((x) => x.description?.startsWith('basis: legal exception'))?.what?.identifier
    ?.value;
  if (legal) return `wettelijke grondslag: ${legalNames.get(legal) ?? legal}`;
  if (e.entity?.some((x) => x.description === 'basis: consent')) return 'toestemming';
  if (e.outcome === '4') return 'geen (geweigerd)';
  return e.outcome === '0' ? 'eigen registratie' : '—';
}

function actionOf(e: AuditEvent, refused: boolean): string {
  const subtype = subtypeOf(e);
  if (refused && REFUSED_NL[subtype]) return REFUSED_NL[subtype];
  return (aboutDelivery(e) ? DELIVERY_NL[subtype] : undefined) ?? ACTION_NL[subtype] ?? subtype;
}

export function reportLines(
  events: AuditEvent[],
  orgNames: Map<string, string>,
  legalNames: Map<string, string>,
): ReportLine[] {
  return events.map((e) => {
    const org = organisationOf(e);
    const sender = senderOf(e);
    const purpose = e.purposeOfEvent?.[0]?.coding?.[0]?.code ?? '';
    const refused = e.outcome === '4';
    return {
      when: e.recorded,
      organisation: org,
      organisationName: orgNames.get(org) ?? org,
      sender,
      senderName: sender ? (orgNames.get(sender) ?? sender) : '',
      action: actionOf(e, refused),
      purpose: PURPOSE_NL[purpose] ?? (purpose || '—'),
      basis: basisOf(e, legalNames),
      outcome: OUTCOME_NL[e.outcome ?? ''] ?? e.outcome ?? '',
      refused,
    };
  });
}

const COLUMNS = ['Wanneer', 'Organisatie', 'Van', 'Wat', 'Doel', 'Grondslag', 'Uitkomst'];

/** On a phone each row becomes a card of labelled lines; printed, the table stays whole on A4. */
const REPORT_CSS = `
tr.refused td{background:#fff4f4}td.outcome-refused{color:#8a1010;font-weight:600}
@media (max-width:40rem){table.report thead{position:absolute;left:-9999px}table.report,table.report tbody,table.report tr,table.report td{display:block;width:auto}
table.report tr{border:1px solid #ccc;border-radius:.4rem;margin-bottom:.8rem;padding:.3rem .5rem}table.report td{border:0;padding:.15rem 0}
table.report td::before{content:attr(data-label) ": ";font-weight:600}}
@media print{table.report{font-size:10pt}tr{break-inside:avoid}}`;

export function reportHtml(bsn: string, lines: ReportLine[], generatedAt: Date): string {
  const rows = lines
    .map((l) => {
      const cells = [
        dutchMoment.format(new Date(l.when)),
        l.organisationName,
        l.senderName || '—',
        l.action,
        l.purpose,
        l.basis,
        l.outcome,
      ];
      const tds = cells
        .map(
          (c, i) =>
            `<td data-label="${COLUMNS[i]}"${i === 6 && l.refused ? ' class="outcome-refused"' : ''}>${escape(c)}</td>`,
        )
        .join('');
      return `<tr${l.refused ? ' class="refused"' : ''}>${tds}</tr>`;
    })
    .join('\n');
  const refused = lines.filter((l) => l.refused).length;
  return htmlPage(
    'Wie heeft gegevens ingezien of ontvangen?',
    `<h1>Wie heeft uw gegevens ingezien of ontvangen?</h1>
<p>Overzicht voor BSN <strong>${escape(bsn)}</strong>, opgesteld op ${escape(dutchMoment.format(generatedAt))}. Hierin staat elke keer dat een organisatie via Ketenpoort gegevens over deze persoon ontving, opvroeg of bekeek: wie de gegevens stuurde, wie ze kreeg, met welk doel en op welke grondslag (toestemming of een wettelijke uitzondering). Ook geweigerde verzoeken staan erin${refused ? ` (${refused} keer): dan is er niets verstuurd` : ''}.</p>
<table class="report">
<caption>${lines.length} ${lines.length === 1 ? 'registratie' : 'registraties'}</caption>
<thead><tr>${COLUMNS.map((c) => `<th scope="col">${c}</th>`).join('')}</tr></thead>
<tbody>
${rows || '<tr><td colspan="7">Er zijn geen registraties.</td></tr>'}
</tbody></table>
<p class="muted">Vragen over dit overzicht? Neem contact op met de functionaris gegevensbescherming van uw gemeente.</p>`,
    REPORT_CSS,
  );
}
