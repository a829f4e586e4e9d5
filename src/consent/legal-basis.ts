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
    const text = (req.justification ?? '').trim();
    if (!text) problems.push({ code: 'justification-missing', params: { basis } });
    else if (text.length < entry.justificationMinLength) {
      problems.push({
        code: 'justification-too-short',
        params: { basis, length: text.length, min: entry.justificationMinLength },
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
