// Explanations: a reason's code and facts rendered as a sentence, in Dutch or English, full or for any requester.
import type { Catalogue } from './catalogue.js';
import type { Reason } from './types.js';

export type Language = 'en' | 'nl';
export type Audience = 'full' | 'public';

export function renderReason(
  reason: Reason,
  catalogue: Catalogue,
  lang: Language,
  audience: Audience,
): string {
  const templates = catalogue.reasonTemplates.get(reason.code);
  const template = templates?.[lang]?.[audience] ?? templates?.en?.[audience] ?? reason.code;
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = reason.params[key];
    if (value === undefined) return `{${key}}`;
    return typeof value === 'object' ? value[lang] : String(value);
  });
}

/** Picks Dutch when the Accept-Language header prefers it over English; English otherwise. */
export function languageOf(acceptLanguage: string | undefined): Language {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.split('=')[1] ?? 1);
      return { tag: (tag ?? '').toLowerCase(), q: Number.isNaN(q) ? 0 : q };
    })
    .filter((x) => x.tag)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag.startsWith('nl')) return 'nl';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}
