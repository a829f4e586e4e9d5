// POST /fhir/Bundle/$security-label: "how sensitive is this?" before sending. The Bundle (as the body, or as the
// Parameters' `bundle`) comes back labelled by the gateway's classification table, with each entry's data
// categories, labels and whether a basis must name it explicitly. Nothing is stored; nothing is audited as care data.
import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { labelEntries } from '../../cds-hooks/labelling.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { sendFhir } from '../http.js';
import { param } from '../operation-spec.js';
import { badRequest, unprocessable } from '../../fhir/outcomes.js';
import { structuralPass } from '../../mappings/structure.js';

function bundleOf(body: unknown): Bundle {
  const b = body as { resourceType?: unknown; parameter?: unknown } | undefined;
  if (b?.resourceType === 'Bundle') return b as Bundle;
  if (b?.resourceType === 'Parameters' && Array.isArray(b.parameter)) {
    const p = (b.parameter as (ParametersParameter | null)[]).find((x) => x?.name === 'bundle');
    if (p?.resource?.resourceType === 'Bundle') return p.resource as Bundle;
  }
  throw badRequest(
    'Stuur een Bundle, of Parameters met een parameter "bundle" / Send a Bundle, or Parameters with a "bundle" parameter',
  );
}

export async function securityLabel(_ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const bundle = bundleOf(req.body);
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry))
    throw badRequest('Bundle.entry moet een lijst zijn / Bundle.entry must be a list', 'Bundle.entry');
  // Nothing reads a Bundle that is not well-formed R4 (nulls, wrong shapes): 422 with every element, as $validate.
  const pass = structuralPass(bundle);
  if (!pass.wellFormed) throw unprocessable(pass.issues);
  const labelled = labelEntries(bundle);
  const byEntry = new Map(labelled.map((x) => [x.entry, x]));
  const out: Bundle = {
    ...bundle,
    entry: (bundle.entry ?? []).map((e) => {
      const x = byEntry.get(e);
      return x ? { ...e, resource: x.resource } : e;
    }),
  };
  const parameters: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'bundle', resource: out },
      ...labelled.map((x) => ({
        name: 'entry',
        part: [
          { name: 'index', valueInteger: (bundle.entry ?? []).indexOf(x.entry) },
          ...(x.entry.fullUrl ? [{ name: 'fullUrl', valueUri: x.entry.fullUrl }] : []),
          { name: 'resourceType', valueCode: x.resource.resourceType },
          { name: 'sensitive', valueBoolean: x.sensitive },
          ...x.categories.map((c) => ({ name: 'category', valueCoding: c })),
          ...x.labels.map((l) => ({ name: 'label', valueCoding: l })),
        ],
      })),
    ],
  };
  sendFhir(res, 200, parameters);
}

export const securityLabelOperation = defineOperation({
  route: 'POST /fhir/Bundle/$security-label',
  permission: 'exchange',
  summary: 'Label a Bundle with the classification table: how sensitive is this?',
  tag: 'Consent decisions',
  description:
    'Labels a Bundle with the classification table before it is sent: each entry with its data categories, security labels and confidentiality; stores nothing.',
  input: [param('bundle', 'Bundle', 0, '1', 'The Bundle to label (or send the Bundle itself as the body)')],
  returns: 'Parameters',
  affectsState: false,
  handler: securityLabel,
});
