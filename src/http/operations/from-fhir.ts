// POST /mappings/{format}/$from-fhir: a FHIR Bundle (or a Bundle of them) in a native form, JSON or CSV; the
// X-Mapping-Outcome header names what the form cannot hold. Stores nothing, so it writes no audit record.
import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import type { NativeRecord } from '../../mappings/fields.js';
import { MappingError } from '../../mappings/referral-format.js';
import { validateFhir } from '../../mappings/validate.js';
import { badRequest, unprocessable } from '../../fhir/outcomes.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { formatOf, mappedOutcome, mappingInput } from '../native-formats.js';

function fromFhir(_ctx: HttpContext, req: Request, res: Response): void {
  const format = formatOf(req);
  const bundle = validateFhir<Bundle>(req.body, ['Bundle']);
  const nested = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Bundle');
  const parts = nested.length ? nested.map((e) => e.resource as Bundle) : [bundle];
  const forms: NativeRecord[] = [];
  const issues: OperationOutcomeIssue[] = [];
  try {
    for (const part of parts) {
      const { native, issues: found } = format.fromFhir(part);
      forms.push(native);
      issues.push(...found);
    }
  } catch (err) {
    if (err instanceof MappingError)
      throw unprocessable([
        { severity: 'error', code: 'invalid', diagnostics: err.message, expression: [err.expression] },
      ]);
    throw err;
  }
  res.set('X-Mapping-Outcome', encodeURIComponent(JSON.stringify(mappedOutcome(forms.length, issues))));
  const csv = req.query._format === 'csv' || (req.get('accept') ?? '').includes('text/csv');
  if (csv && !format.toCsv) throw badRequest(`${format.name} is written as application/json only`);
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
