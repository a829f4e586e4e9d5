// Native formats ↔ FHIR: GET /mappings (the field tables), POST /mappings/{format}/$to-fhir and $from-fhir. Mapping
// stores nothing and sends nothing anywhere, so it needs a token but writes no audit record.
import express, { type Request, type Router } from 'express';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { languageOf } from '../../consent/explain.js';
import { checkFhir } from '../../mappings/validate.js';
import { accepted } from '../../fhir/verdict.js';
import { FORMATS, mapNative, nativeFromFhir, type NativeFormat } from '../../mappings/formats.js';
import type { HttpContext } from '../context.js';
import { guardedJson } from '../body-guard.js';
import { requireToken, sendFhir } from '../http.js';
import { badRequest, informational, notFound } from '../../fhir/outcomes.js';

/** What a mapping could not carry over, or that everything was. */
function mappedOutcome(count: number, issues: OperationOutcomeIssue[]): OperationOutcome {
  return issues.length
    ? { resourceType: 'OperationOutcome', issue: issues }
    : informational(`every field of ${count} record(s) was mapped`);
}

function formatOf(req: Request): NativeFormat {
  const name = String(req.params.format);
  // Own keys only: "constructor" or "__proto__" must not find Object's members.
  const format = Object.hasOwn(FORMATS, name) ? FORMATS[name] : undefined;
  if (!format)
    throw notFound(`Unknown mapping format "${String(req.params.format)}"; GET /mappings lists the formats`);
  return format;
}

export function mappingRoutes(ctx: HttpContext, router: Router): void {
  const tag = 'Mappings';
  ctx.caps.route({ method: 'get', path: '/mappings', summary: 'Native formats and their field tables', tag });
  router.get('/mappings', (_req, res) => {
    res.json({
      formats: Object.values(FORMATS).map((f) => ({
        name: f.name,
        title: f.title,
        contentTypes: f.contentTypes,
        tables: f.tables,
        ...(f.csvColumns ? { csvColumns: f.csvColumns } : {}),
      })),
    });
  });
  const bodies = [
    guardedJson({ type: ['application/json', 'application/fhir+json'], limit: ctx.config.bodyLimit }),
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
    const format = formatOf(req);
    const bundles = accepted(mapNative(format, req.body, undefined, languageOf(req.get('accept-language'))));
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
    const format = formatOf(req);
    const bundle = accepted(checkFhir<Bundle>(req.body, ['Bundle']));
    const nested = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Bundle');
    const parts = nested.length ? nested.map((e) => e.resource as Bundle) : [bundle];
    const mapped = nativeFromFhir(format, parts);
    const forms = accepted(mapped);
    res.set(
      'X-Mapping-Outcome',
      encodeURIComponent(JSON.stringify(mappedOutcome(forms.length, mapped.issues))),
    );
    const csv = req.query._format === 'csv' || (req.get('accept') ?? '').includes('text/csv');
    if (csv && !format.toCsv) throw badRequest(`${format.name} is written as application/json only`);
    if (csv && format.toCsv) res.type('text/csv; charset=utf-8').send(format.toCsv(forms));
    else res.json(nested.length ? forms : forms[0]);
  });
}
