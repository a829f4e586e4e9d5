// GET /fhir/ValueSet/$expand: the codes of one of the gateway's ValueSets, filtered, with Dutch displays on request.
// Free of personal data, so served without a token.
import { displayIn, flattenConcepts } from '../../mappings/profiles.js';
import { systemFor, valueSetOf } from '../code-systems.js';
import { defineOperation } from '../define-operation.js';
import { sendFhir } from '../http.js';
import { param } from '../operation-spec.js';

export const expandOperation = defineOperation({
  route: 'GET /fhir/ValueSet/$expand',
  permission: 'public',
  summary: 'Expand a ValueSet (filter, displayLanguage)',
  tag: 'Terminology',
  description: 'Expands one of the gateway\u2019s ValueSets, filtered, with Dutch displays on request.',
  input: [
    param('url', 'uri', 1, '1', 'The ValueSet'),
    param('filter', 'string', 0, '1', 'Only codes whose display contains this text'),
    param('displayLanguage', 'code', 0, '1', 'nl for the Dutch displays'),
  ],
  returns: 'ValueSet',
  affectsState: false,
  handler: (ctx, req, res) => {
    const cs = systemFor(req, 'ValueSet');
    const filter = typeof req.query.filter === 'string' ? req.query.filter.toLowerCase() : '';
    const lang = typeof req.query.displayLanguage === 'string' ? req.query.displayLanguage : undefined;
    const contains = flattenConcepts(cs.concept)
      .map((c) => ({ system: cs.url, code: c.code, display: displayIn(c, lang) }))
      .filter(
        (c) =>
          !filter ||
          c.code!.toLowerCase().includes(filter) ||
          (c.display ?? '').toLowerCase().includes(filter),
      );
    sendFhir(res, 200, {
      ...valueSetOf(cs),
      expansion: { timestamp: ctx.clock().toISOString(), total: contains.length, contains },
    });
  },
});
