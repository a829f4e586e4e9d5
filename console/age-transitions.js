// Consent renewals due at an age transition (Tasks with code consent-renewal): who turns 12 or 16 soon, and what the
// policy means for the consents on record. A piece of its own, mounted by age-transitions.html.
import { consoleGet, dutchMoment } from './consent-history.js';

const PRIORITY = { urgent: 'dringend / urgent', routine: 'gewoon / routine' };

export function renderRenewals(container, bundle) {
  const tasks = (bundle.entry ?? []).map((e) => e.resource);
  container.replaceChildren();
  const summary = document.createElement('p');
  summary.id = 'renewals-summary';
  summary.textContent = `${tasks.length} vernieuwing(en) open / renewal(s) open`;
  container.append(summary);
  if (tasks.length === 0) return;
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const h of [
    'Uiterlijk / Due',
    'Persoon / Person',
    'Organisatie / Organisation',
    'Prioriteit / Priority',
    'Wat / What',
  ])
    head.append(Object.assign(document.createElement('th'), { textContent: h }));
  const body = table.createTBody();
  for (const t of tasks.sort((a, b) =>
    (a.restriction?.period?.end ?? '').localeCompare(b.restriction?.period?.end ?? ''),
  )) {
    const row = body.insertRow();
    row.className = `priority-${t.priority}`;
    for (const value of [
      t.restriction?.period?.end ?? '',
      t.for?.reference ?? '',
      t.owner?.reference ?? '',
      PRIORITY[t.priority] ?? t.priority ?? '',
      t.description ?? '',
    ])
      row.insertCell().textContent = value;
  }
  container.append(table);
  const note = document.createElement('p');
  note.className = 'muted';
  note.textContent = `Bijgewerkt ${dutchMoment(new Date().toISOString())}`;
  container.append(note);
}

const root = typeof document !== 'undefined' ? document.getElementById('renewals') : null;
if (root) {
  consoleGet('/fhir/Task?code=consent-renewal&status=requested&_count=100')
    .then((bundle) => renderRenewals(root, bundle))
    .catch((err) => {
      root.textContent = `Niet beschikbaar / Not available: ${err.message}`;
    });
}
