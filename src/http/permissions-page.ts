// The Dutch page of Patient/$permissions: who may receive what about this person now, and until when.
import { escapeHtml, htmlPage } from '../html.js';
import { dutchMoment, formatDutchDay } from '../time/amsterdam.js';
import { loadCatalogue } from '../consent/catalogue.js';
import type { PermissionLine } from '../exchange/permissions.js';

const PURPOSE_NL: Record<string, string> = {
  TREAT: 'hulpverlening',
  CAREMGT: 'coördinatie van zorg',
  HRESCH: 'onderzoek',
  PUBHLTH: 'publieke gezondheid',
};

export function permissionsHtml(
  bsn: string,
  lines: PermissionLine[],
  names: Map<string, string>,
  at: Date,
): string {
  const categories = loadCatalogue().categories;
  const rows = lines
    .map((l) => {
      const cats = l.categories.map((c) => categories.get(c)?.display ?? c).join(', ') || '—';
      const until = l.until ? formatDutchDay(l.until) : 'tot intrekking';
      return `<tr><td>${escapeHtml(l.recipientName)}</td><td>${escapeHtml(names.get(l.sender) ?? l.sender)}</td><td>${escapeHtml(PURPOSE_NL[l.purpose] ?? l.purpose)} (${escapeHtml(l.purpose)})</td><td>${escapeHtml(cats)}</td><td>toestemming (${escapeHtml(l.consents.join(', '))})</td><td>${escapeHtml(until)}</td></tr>`;
    })
    .join('\n');
  return htmlPage(
    'Wie mag welke gegevens ontvangen?',
    `<h1>Wie mag welke gegevens ontvangen?</h1>
<p>Overzicht voor BSN <strong>${escapeHtml(bsn)}</strong>, opgesteld op ${escapeHtml(dutchMoment.format(at))}. Hierin staat welke organisaties via Ketenpoort nu gegevens over deze persoon mogen ontvangen, voor welk doel, welke soorten gegevens, op grond van welke toestemming en tot wanneer. Wettelijke uitzonderingen staan er niet in: die worden per verzoek beoordeeld.</p>
<table>
<caption>${lines.length} ${lines.length === 1 ? 'toegestane ontvanger en doel' : 'toegestane ontvangers en doelen'}</caption>
<thead><tr><th scope="col">Ontvanger</th><th scope="col">Van</th><th scope="col">Doel</th><th scope="col">Gegevens</th><th scope="col">Grondslag</th><th scope="col">Tot</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6">Op dit moment mag geen organisatie gegevens ontvangen.</td></tr>'}
</tbody></table>
<p class="muted">Who may receive what about this person now (English: request application/fhir+json). Vragen? Neem contact op met de functionaris gegevensbescherming van uw gemeente.</p>`,
  );
}
