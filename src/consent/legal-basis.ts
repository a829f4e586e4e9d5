// Checks a named legal exception against the catalogue: in force, roles, purpose, justification, criteria.
import type { LegalBasisEntry } from './catalogue.js';
import type { DecisionRequest, Reason } from './types.js';

/** Every condition of the entry that this request fails, as reasons; empty when the basis applies. */
export function legalBasisProblems(entry: LegalBasisEntry, req: DecisionRequest): Reason[] {
  const basis = entry.code;
  if (!entry.inForce) return [{ code: 'legal-basis-not-in-force', params: { basis, law: entry.law } }];
  const problems: Reason[] = [];
  if (entry.requesterRoles.length && !entry.requesterRoles.includes(req.requesterRole)) {
    problems.push({ code: 'requester-role-not-allowed', params: { basis, role: req.requesterRole } });
  }
  if (
    entry.recipientRoles.length &&
    !(req.recipientRole && entry.recipientRoles.includes(req.recipientRole))
  ) {
    problems.push({
      code: 'recipient-role-not-allowed',
      params: { basis, recipient: req.recipientOrg, role: req.recipientRole ?? 'unknown' },
    });
  }
  if (entry.purposes.length && !entry.purposes.includes(req.purpose.code ?? '')) {
    problems.push({
      code: 'purpose-not-allowed',
      params: { basis, allowed: entry.purposes.join(', '), purpose: req.purpose.code ?? '' },
    });
  }
  if (entry.justificationRequired) {
    const text = visibleText(req.justification ?? '');
    if (!text) problems.push({ code: 'justification-missing', params: { basis } });
    else if (!isAccount(text, entry.justificationMinLength)) {
      problems.push({
        code: 'justification-too-short',
        params: { basis, length: [...text].length, min: entry.justificationMinLength },
      });
    }
  }
  for (const criterion of entry.criteria) {
    const value = req.criteria?.[criterion];
    const met = value === true || (typeof value === 'string' && value.trim() !== '' && value !== 'false');
    if (!met) problems.push({ code: 'criterion-missing', params: { basis, criterion } });
  }
  return problems;
}

/** The text a reader sees: invisible characters (zero-width, format controls) removed, white space folded. */
function visibleText(text: string): string {
  return text
    .replace(/[\p{Cf}\p{Cc}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * Whether a justification reads as an account: at least the minimum number of characters (code points, not UTF-16
 * units) and of letters or digits, at least two words, and not one character repeated.
 */
function isAccount(text: string, min: number): boolean {
  const chars = [...text];
  const alnum = chars.filter((c) => /[\p{L}\p{N}]/u.test(c));
  const words = text.split(' ').filter((w) => /[\p{L}\p{N}]{2,}/u.test(w));
  return (
    chars.length >= min &&
    alnum.length >= Math.ceil(min * 0.6) &&
    words.length >= 2 &&
    new Set(alnum).size > 2
  );
}
