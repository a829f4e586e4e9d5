// The municipal report as a printable Dutch page, rendered from the MeasureReport itself: the same counts, the same
// masked cells (shown as "afgeschermd").
import { readOnce } from '../reference-data.js';
import type { MeasureReport, MeasureReportGroup } from '@medplum/fhirtypes';
import { escapeHtml, htmlPage } from '../html.js';
import { dutchMoment, formatDutchDay } from '../time/amsterdam.js';
import { displayIn, flattenConcepts, loadCodeSystems } from '../mappings/profiles.js';

/** The Dutch names of the codes of the gateway's CodeSystems, by "system|code". */
const names = readOnce(
  (): ReadonlyMap<string, string> =>
    new Map(
      loadCodeSystems().flatMap((cs) =>
        flattenConcepts(cs.concept).map((c) => [`${cs.url}|${c.code}`, displayIn(c, 'nl') ?? c.code]),
      ),
    ),
);
/** The Dutch name of a code of the gateway's CodeSystems (its nl designation, else its display). */
function dutch(system: string | undefined, code: string | undefined): string {
  return names().get(`${system}|${code}`) ?? code ?? '';
}

const MASKED =
  '<abbr title="afgeschermd: een klein aantal, of een aantal waaruit een klein aantal te herleiden is">afgeschermd</abbr>';
const cell = (count: number | undefined) => (count === undefined ? MASKED : String(count));
const days = (g: { measureScore?: { value?: number } }) =>
  g.measureScore?.value !== undefined ? `${g.measureScore.value} dagen` : '—';

/** "Instroom — naar verwijzer"; just the title when the stratifier says the same. */
const caption = (title: string, by: string) =>
  by.toLowerCase() === title.toLowerCase() ? title : `${title} — ${by.toLowerCase()}`;

function groupTable(group: MeasureReportGroup, title: string, withScores: boolean): string {
  return (group.stratifier ?? [])
    .map((s) => {
      const by = s.code?.[0]?.coding?.[0];
      const rows = (s.stratum ?? [])
        .map((st) => {
          const c = st.value?.coding?.[0];
          return `<tr><th scope="row">${escapeHtml(dutch(c?.system, c?.code))}</th><td class="n">${cell(st.population?.[0]?.count)}</td>${withScores ? `<td class="n">${days(st)}</td>` : ''}</tr>`;
        })
        .join('\n');
      return `<table>
<caption>${escapeHtml(caption(title, dutch(by?.system, by?.code)))}</caption>
<thead><tr><th scope="col"></th><th scope="col">Aantal</th>${withScores ? '<th scope="col">Mediaan doorlooptijd</th>' : ''}</tr></thead>
<tbody>
${rows}
</tbody></table>`;
    })
    .join('\n');
}

export function municipalReportHtml(report: MeasureReport): string {
  const threshold = report.extension?.find((e) => e.url.endsWith('/suppression-threshold'))?.valueInteger;
  const group = (code: string) => report.group?.find((g) => g.code?.coding?.[0]?.code === code);
  const name = (code: string) => {
    const c = group(code)?.code?.coding?.[0];
    return dutch(c?.system, c?.code);
  };
  const summary = ['in-care', 'open-start', 'inflow', 'outflow', 'open-end']
    .map(
      (code) =>
        `<tr><th scope="row">${escapeHtml(name(code))}</th><td class="n">${cell(group(code)?.population?.[0]?.count)}</td></tr>`,
    )
    .join('\n');
  const throughput = group('throughput-time');
  const municipality = report.reporter?.display ?? `gemeente ${report.reporter?.identifier?.value ?? ''}`;
  const period = `${formatDutchDay(report.period.start!)} tot en met ${formatDutchDay(report.period.end!)}`;
  return htmlPage(
    `Rapportage gezinsregie ${municipality}`,
    `<h1>Rapportage gezinsregie — ${escapeHtml(municipality)}</h1>
<p>Periode ${escapeHtml(period)}; opgesteld op ${escapeHtml(report.date ? dutchMoment.format(new Date(report.date)) : '')}. Alleen totalen: er staan geen gegevens van personen of gezinnen in. Aantallen kleiner dan ${threshold ?? ''}, en aantallen waaruit zo'n klein aantal te herleiden zou zijn, zijn afgeschermd.</p>
<table>
<caption>Overzicht trajecten</caption>
<thead><tr><th scope="col"></th><th scope="col">Aantal</th></tr></thead>
<tbody>
${summary}
<tr><th scope="row">${escapeHtml(name('throughput-time'))} (mediaan, afgesloten trajecten)</th><td class="n">${throughput ? days(throughput) : '—'}</td></tr>
</tbody></table>
${groupTable(group('in-care')!, name('in-care'), false)}
${groupTable(group('inflow')!, name('inflow'), false)}
${groupTable(group('outflow')!, name('outflow'), false)}
${groupTable(throughput!, name('throughput-time'), true)}
${groupTable(group('life-domain')!, name('life-domain'), false)}
<p class="muted">Berekend door Ketenpoort uit de trajecten die de regievoerende instellingen hebben vastgelegd (Measure ${escapeHtml(report.measure)}).</p>`,
  );
}
