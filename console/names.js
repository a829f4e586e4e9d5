// Organisations, legal bases, reasons and data categories by their names (the directory and the gateway's
// CodeSystems), in the console's language; the code itself on hover.
import { api } from './api.js';
import { label, lang } from './i18n.js';

const organisations = new Map();
/** CodeSystem id → code → { nl, en } */
const codes = new Map();
const SYSTEMS = ['legal-basis', 'decision-reason', 'data-category'];

/** The designation of a concept in a language: the short public one where there is one, else any, else display. */
function designation(concept, language) {
  const mine = (concept.designation ?? []).filter((d) => d.language === language);
  return (
    mine.find((d) => d.use?.code === 'public')?.value ??
    mine.find((d) => !d.use)?.value ??
    (language === 'en' ? concept.display : undefined)
  );
}

function addConcepts(map, concepts = []) {
  for (const c of concepts) {
    map.set(c.code, { nl: designation(c, 'nl') ?? c.display, en: designation(c, 'en') ?? c.display });
    addConcepts(map, c.concept);
  }
}

/** Loads the names once; what cannot be loaded stays a code (the console still works). */
export async function loadNames() {
  const tasks = [
    api('/fhir/Organization?_count=500').then((bundle) => {
      for (const { resource } of bundle.entry ?? [])
        organisations.set(`Organization/${resource.id}`, resource.name ?? resource.id);
    }),
    ...SYSTEMS.map((id) =>
      api(`/fhir/CodeSystem/${id}`).then((cs) => {
        const map = new Map();
        addConcepts(map, cs.concept);
        codes.set(id, map);
      }),
    ),
  ];
  await Promise.allSettled(tasks);
}

/** The name of a code: kind is 'organisation', a CodeSystem id, or a label kind (purpose, outcome, subtype). */
export function nameOf(kind, code) {
  if (!code) return '';
  if (kind === 'organisation') return organisations.get(code) ?? code;
  const names = codes.get(kind)?.get(code);
  if (names) return names[lang] ?? names.nl ?? code;
  return label(kind, code);
}

/** A span with the name, the code in its title (shown on hover) and in a data attribute for tests and copying. */
export function named(kind, code) {
  const span = document.createElement('span');
  span.textContent = nameOf(kind, code) || '—';
  if (code) {
    span.title = code;
    span.dataset.code = code;
  }
  return span;
}

/** The directory as [reference, name] pairs, sorted by name (for the organisation filters). */
export const organisationList = () =>
  [...organisations].sort((a, b) => a[1].localeCompare(b[1], lang === 'en' ? 'en' : 'nl'));
/** The codes of a CodeSystem as [code, name] pairs. */
export const codeList = (id) => [...(codes.get(id)?.keys() ?? [])].map((c) => [c, nameOf(id, c)]);
