// The gateway's CodeSystems (from profiles/) and the ValueSet of all codes of each, as the terminology routes and
// operations find them.
import { readOnce } from '../reference-data.js';
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import type { Request } from 'express';
import { loadCodeSystems } from '../mappings/profiles.js';
import { badRequest, notFound } from '../fhir/outcomes.js';

/** The ValueSet of all codes of a CodeSystem: same id, url with /ValueSet/ in place of /CodeSystem/. */
export function valueSetOf(cs: CodeSystem): ValueSet {
  return {
    resourceType: 'ValueSet',
    id: cs.id,
    url: cs.url!.replace('/CodeSystem/', '/ValueSet/'),
    version: cs.version,
    name: `${cs.name}All`,
    title: `All ${cs.title ?? cs.name}`,
    status: cs.status,
    publisher: cs.publisher,
    description: `Every code of ${cs.url}.`,
    compose: { include: [{ system: cs.url }] },
  };
}

/** The gateway's CodeSystems by url. */
const byUrl = readOnce(
  (): ReadonlyMap<string, CodeSystem> => new Map(loadCodeSystems().map((cs) => [cs.url!, cs])),
);

/** The CodeSystem a request names by `url` (or `system`): of a CodeSystem, or of the ValueSet of all its codes. */
export function systemFor(req: Request, kind: 'CodeSystem' | 'ValueSet'): CodeSystem {
  const url = String(req.query.url ?? req.query.system ?? '');
  const cs =
    kind === 'CodeSystem' ? byUrl().get(url) : byUrl().get(url.replace('/ValueSet/', '/CodeSystem/'));
  if (!url) throw badRequest('Parameter "url" is verplicht / Parameter "url" is required');
  if (!cs) throw notFound(`Geen ${kind} met url ${url} / No ${kind} with url ${url}`);
  return cs;
}
