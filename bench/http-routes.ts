// The routes the HTTP benchmarks drive, with their bodies: Noah (fixture family, BSN 999910036, registered by the CJG)
// and the GP, as in docs/examples/exchange-noah-to-gp.json; the decision is that body without its payload.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths.js';

export type RouteKind = 'decision' | 'cds' | 'exchange';

export interface BenchRoute {
  kind: RouteKind;
  label: string;
  path: string;
  body: string;
  /** The answer a correct request gets, and a text it contains: checked before the load. */
  status: number;
  has: string;
}

export async function exchangeBody(): Promise<string> {
  return readFile(path.join(PROJECT_ROOT, 'docs/examples/exchange-noah-to-gp.json'), 'utf8');
}

export async function ROUTES(): Promise<BenchRoute[]> {
  const exchange = JSON.parse(await exchangeBody()) as { parameter: { name: string }[] };
  const decision = { ...exchange, parameter: exchange.parameter.filter((p) => p.name !== 'payload') };
  const cds = {
    hook: 'patient-consent-consult',
    hookInstance: 'bench',
    context: {
      patientId: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999910036' }],
      category: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
      purposeOfUse: 'CAREMGT',
      actor: [{ system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '90000107' }],
    },
  };
  return [
    {
      kind: 'decision',
      label: '$consent-decision',
      path: '/fhir/$consent-decision',
      body: JSON.stringify(decision),
      status: 200,
      has: '"permit"',
    },
    {
      kind: 'cds',
      label: 'CDS Hooks consult',
      path: '/cds-services/patient-consent-consult',
      body: JSON.stringify(cds),
      status: 200,
      has: '"cards"',
    },
    {
      kind: 'exchange',
      label: '$exchange',
      path: '/fhir/$exchange',
      body: JSON.stringify(exchange),
      status: 202,
      has: '"delivered"',
    },
  ];
}
