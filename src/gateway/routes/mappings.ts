// Native formats ↔ FHIR: GET /mappings (the field tables), POST /mappings/{format}/$to-fhir and $from-fhir. Mapping
// stores nothing and sends nothing anywhere, so it needs a token but writes no audit record.
import express, { type Request, type Router } from 'express';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { validateFhir } from '../../mappings/validate.js';
import {
  CSV_COLUMNS,
  MappingError,
  NativeInputError,
  referralFromFhir,
  referralJsonToFhir,
  referralsFromCsv,
  referralsToCsv,
  referralTables,
  referralToFhir,
} from '../../mappings/referral-format.js';
import type { NativeReferral } from '../../mappings/cjg-referral.js';
import type { GatewayContext } from '../context.js';
import { requireToken, sendFhir } from '../http.js';
import { badRequest, FhirError, notFound } from '../outcomes.js';

const FORMATS = {
  'cjg-referral': {
    title: 'CJG referral form (aanmeldformulier): referral, parents, children, involved agencies',
    contentTypes: ['application/json', 'text/csv'],
    tables: referralTables,
    csvColumns: CSV_COLUMNS,
  },
};

function outcomeOf(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

const unprocessable = (issues: OperationOutcomeIssue[]) => new FhirError(422, outcomeOf(issues));

function mappedOutcome(count: number, issues: OperationOutcomeIssue[]): OperationOutcome {
  return outcomeOf(
    issues.length
      ? issues
      : [
          {
            severity: 'information',
            code: 'informational',
            diagnostics: `every field of ${count} form(s) was mapped`,
          },
        ],
  );
}

function formatOf(req: Request): keyof typeof FORMATS {
  const format = req.params.format as string;
  if (!(format in FORMATS))
    throw notFound(`Unknown mapping format "${format}"; GET /mappings lists the formats`);
  return format as keyof typeof FORMATS;
}

export function mappingRoutes(ctx: GatewayContext, router: Router): void {
  const tag = 'Mappings';
  ctx.caps.route({ method: 'get', path: '/mappings', summary: 'Native formats and their field tables', tag });
  router.get('/mappings', (_req, res) => {
    res.json({ formats: Object.entries(FORMATS).map(([name, f]) => ({ name, ...f })) });
  });
  const bodies = [
    express.json({ type: ['application/json', 'application/fhir+json'], limit: ctx.config.bodyLimit }),
    express.text({ type: ['text/csv', 'text/plain'], limit: ctx.config.bodyLimit }),
  ];
  ctx.caps.route({
    method: 'post',
    path: '/mappings/{format}/$to-fhir',
    summary:
      'Native JSON or CSV → FHIR Bundle; its last entry is the OperationOutcome of what was not mapped',
    tag,
  });
  router.post('/mappings/:format/\\$to-fhir', requireToken(ctx), ...bodies, (req, res) => {
    formatOf(req);
    let bundles: Bundle[];
    try {
      if (typeof req.body === 'string') bundles = referralsFromCsv(req.body).map(referralToFhir);
      else if (req.body && typeof req.body === 'object') bundles = [referralJsonToFhir(req.body)];
      else throw badRequest('Send the form as application/json, or forms as text/csv');
    } catch (err) {
      if (err instanceof NativeInputError) throw unprocessable(err.issues);
      throw err;
    }
    const result: Bundle =
      typeof req.body === 'string'
        ? { resourceType: 'Bundle', type: 'collection', entry: bundles.map((b) => ({ resource: b })) }
        : bundles[0]!;
    result.entry = [...(result.entry ?? []), { resource: mappedOutcome(bundles.length, []) }];
    sendFhir(res, 200, result);
  });
  ctx.caps.route({
    method: 'post',
    path: '/mappings/{format}/$from-fhir',
    summary:
      'FHIR Bundle → native JSON (or CSV with _format=csv); X-Mapping-Outcome names what the form cannot hold',
    tag,
  });
  router.post('/mappings/:format/\\$from-fhir', requireToken(ctx), ...bodies, (req, res) => {
    formatOf(req);
    const bundle = validateFhir<Bundle>(req.body, ['Bundle']);
    const nested = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Bundle');
    const parts = nested.length ? nested.map((e) => e.resource as Bundle) : [bundle];
    const forms: NativeReferral[] = [];
    const issues: OperationOutcomeIssue[] = [];
    try {
      for (const part of parts) {
        const { native, issues: found } = referralFromFhir(part);
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
    if (csv) res.type('text/csv; charset=utf-8').send(referralsToCsv(forms));
    else res.json(nested.length ? forms : forms[0]);
  });
}
