// The review queue for a day's work: each legal-exception use with the child, requester, basis and justification,
// overdue first, a link to the exchange, and a confirmation before anything is approved or disputed.
import { api, showFailure, showStatus } from './api.js';
import { day, t } from './i18n.js';
import { openEvent } from './log.js';
import { named, nameOf } from './names.js';

const $ = (sel) => document.querySelector(sel);
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

/** The child a review is about: name and BSN from the person index (officers see every registration). */
async function childOf(task) {
  const ref = task.for?.reference;
  if (!ref) return { name: '—', bsn: '—' };
  try {
    const p = await api(`/fhir/${ref}`);
    const n = p.name?.[0];
    const name = n?.text ?? [...(n?.given ?? []), n?.family].filter(Boolean).join(' ');
    return { name: name || '—', bsn: p.identifier?.find((i) => i.system === BSN)?.value ?? '—' };
  } catch {
    return { name: '—', bsn: '—' };
  }
}

/** Asks for confirmation in a modal dialog; resolves true only on the explicit confirm button. */
function confirmDecision(decision, facts) {
  const dialog = $('#confirm');
  $('#confirm-title').textContent = t(decision === 'approved' ? 'confirmApprove' : 'confirmDispute');
  $('#confirm-text').textContent = t('confirmText', {
    ...facts,
    decision: t(decision === 'approved' ? 'approveVerb' : 'disputeVerb'),
  });
  $('#confirm-yes').textContent = t(decision === 'approved' ? 'approve' : 'dispute');
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
  });
}

function line(term, ...content) {
  const p = document.createElement('p');
  const b = document.createElement('strong');
  b.textContent = `${t(term)}: `;
  p.append(b, ...content);
  return p;
}

async function card(task) {
  const li = document.createElement('li');
  const input = (name) => task.input?.find((i) => i.type.text === name);
  const basis = input('legalBasis')?.valueCoding?.code;
  const recipient = input('recipient')?.valueReference?.reference;
  const due = task.restriction?.period?.end;
  const late = due && new Date(due) < new Date();
  const child = await childOf(task);
  const h = document.createElement('h3');
  h.append(named('legal-basis', basis));
  if (late) {
    const badge = document.createElement('span');
    badge.className = 'badge overdue';
    badge.textContent = t('overdue');
    h.append(' ', badge);
  }
  const criteria =
    task.input
      ?.filter((i) => i.type.text?.startsWith('criterion:'))
      .map((i) => `${i.type.text.slice(10)} = ${i.valueString}`)
      .join(', ') || t('none');
  const note = document.createElement('textarea');
  note.rows = 2;
  note.id = `note-${task.id}`;
  const noteLabel = document.createElement('label');
  noteLabel.htmlFor = note.id;
  noteLabel.textContent = t('note');
  const row = document.createElement('div');
  row.className = 'row';
  const link = document.createElement('button');
  link.type = 'button';
  link.className = 'secondary';
  link.textContent = t('openExchange');
  const exchange = task.focus?.reference?.split('/')[1];
  link.disabled = !exchange;
  link.addEventListener('click', () => {
    document.querySelector('nav button[data-tab="log"]').click();
    openEvent(exchange);
  });
  row.append(link);
  for (const decision of ['approved', 'disputed']) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = t(decision === 'approved' ? 'approve' : 'dispute');
    b.addEventListener('click', async () => {
      const facts = {
        basis: nameOf('legal-basis', basis),
        child: child.name,
        bsn: child.bsn,
        recipient: nameOf('organisation', recipient),
      };
      if (!(await confirmDecision(decision, facts))) return;
      try {
        await api(`/fhir/Task/${task.id}`, {
          method: 'PUT',
          body: JSON.stringify({
            ...task,
            status: 'completed',
            output: [
              { type: { text: 'decision' }, valueCode: decision },
              { type: { text: 'note' }, valueString: note.value },
            ],
          }),
        });
        showStatus($('#reviews-status'), t('reviewSaved', { decision: t(decision) }));
        li.remove();
      } catch (err) {
        err.message = t('notSaved', { message: err.message });
        showFailure($('#reviews-status'), err);
      }
    });
    row.append(b);
  }
  li.className = late ? 'overdue' : '';
  li.append(
    h,
    line('child', `${child.name} (BSN ${child.bsn})`),
    line('requester', named('organisation', task.requester?.reference)),
    line('recipient', named('organisation', recipient)),
    line('justification', input('justification')?.valueString ?? ''),
    line('criteria', criteria),
    line('due', due ? day(due) : '—'),
    noteLabel,
    note,
    row,
  );
  return li;
}

export async function loadReviews() {
  const status = $('#reviews-status');
  const list = $('#reviews');
  const overdue = $('#overdue-only').checked ? '&overdue=true' : '';
  showStatus(status, t('loading'));
  try {
    const bundle = await api(
      `/fhir/Task?code=legal-exception-review&status=requested${overdue}&_count=500&_sort=_lastUpdated`,
    );
    const tasks = (bundle.entry ?? []).map((e) => e.resource);
    // Overdue first: the earliest deadline at the top.
    tasks.sort((a, b) =>
      String(a.restriction?.period?.end ?? '').localeCompare(String(b.restriction?.period?.end ?? '')),
    );
    list.replaceChildren(...(await Promise.all(tasks.map(card))));
    showStatus(status, tasks.length ? t('reviewsWaiting', { n: tasks.length }) : t('reviewsNone'));
  } catch (err) {
    list.replaceChildren();
    showFailure(status, err, loadReviews);
  }
}
