// POST /mappings/{format}/$from-fhir: a FHIR Bundle (or a Bundle of them) in a native form, JSON or CSV; the
// X-Mapping-Outcome header names what the form cannot hold. Stores nothing, so it writes no audit record.
import type { Bundle } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { nativeFromFhir } from '../../mappings/formats.js';
import { checkFhir } from '../../mappings/validate.js';
import { badRequest } from '../../fhir/outcomes.js';
import { accepted } from '../../fhir/verdict.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { formatOf, mappedOutcome, mappingInput } from '../native-formats.js';

function fromFhir(_ctx: HttpContext, req: Request, res: Response): void {
  const format = formatOf(req);
  const bundle = accepted(checkFhir<Bundle>(req.body, ['Bundle']));
  const nested = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Bundle');
  const parts = nested.length ? nested.map((e) => e.resource as Bundle) : [bundle];
  const mapped = nativeFromFhir(format, parts);
  const forms = accepted(mapped);
  const issues = mapped.issues;
  res.set('X-Mapping-Outcome', encodeURIComponent(JSON.stringify(mappedOutcome(forms.length, issues))));
  const csv = req.query._format === 'csv' || (req.get('accept') ?? '').includes('text/csv');
  if (csv && !format.toCsv)
    throw badRequest(
      `${format.name} wordt alleen als application/json geschreven / ${format.name} is written as application/json only`,
    );
  if (csv && format.toCsv) res.type('text/csv; charset=utf-8').send(format.toCsv(forms));
  else res.json(nested.length ? forms : forms[0]);
}

export const fromFhirOperation = defineOperation({
  route: 'POST /mappings/:format/$from-fhir',
  permission: 'exchange',
  summary:
    'FHIR Bundle → native JSON (or CSV with _format=csv); X-Mapping-Outcome names what the form cannot hold',
  tag: 'Mappings',
  description: 'Writes a FHIR Bundle in a native form, naming what the form cannot hold.',
  input: [],
  returns: 'Binary',
  affectsState: false,
  before: mappingInput,
  handler: fromFhir,
});
