// POST /mappings/{format}/$to-fhir: a native JSON or CSV record as a FHIR Bundle, with the OperationOutcome of what was
// not mapped as its last entry. Stores nothing and sends nothing anywhere, so it writes no audit record.
import type { Bundle } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { languageOf } from '../../consent/explain.js';
import { mapNative } from '../../mappings/formats.js';
import { accepted } from '../../fhir/verdict.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { sendFhir } from '../http.js';
import { formatOf, mappedOutcome, mappingInput } from '../native-formats.js';

function toFhir(_ctx: HttpContext, req: Request, res: Response): void {
  const format = formatOf(req);
  const bundles = accepted(mapNative(format, req.body, undefined, languageOf(req.get('accept-language'))));
  const result: Bundle =
    typeof req.body === 'string'
      ? { resourceType: 'Bundle', type: 'collection', entry: bundles.map((b) => ({ resource: b })) }
      : bundles[0]!;
  result.entry = [...(result.entry ?? []), { resource: mappedOutcome(bundles.length, []) }];
  sendFhir(res, 200, result);
}

export const toFhirOperation = defineOperation({
  route: 'POST /mappings/:format/$to-fhir',
  permission: 'exchange',
  summary: 'Native JSON or CSV → FHIR Bundle; its last entry is the OperationOutcome of what was not mapped',
  tag: 'Mappings',
  description: 'Maps a native record (JSON, or CSV rows) to FHIR, naming what it could not map.',
  input: [],
  returns: 'Bundle',
  affectsState: false,
  before: mappingInput,
  handler: toFhir,
});
