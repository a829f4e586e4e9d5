// GET /sandbox: a page (Dutch first, English second) listing the sandbox clients, the fixture families with their
// BSNs and ages on the sandbox clock, example calls and the controls; JSON with Accept: application/json.
import type { Bundle, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { ageOn, dutchDate } from '../time/amsterdam.js';
import { escapeHtml, htmlPage } from '../html.js';

export interface SandboxClientLine {
  clientId: string;
  role: string;
  organization: string;
  privateKey: string;
}

export interface FamilyMember {
  name: string;
  bsn: string;
  kind: 'child' | 'parent';
  birthDate?: string;
  age?: number;
  parentalAuthority?: boolean;
}

const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const GEZAG = 'https://ketenpoort.nl/fhir/StructureDefinition/parental-authority';

/** The people of one fixture family Bundle (each parent once), with ages on the sandbox clock. */
export function familyMembers(bundle: Bundle, at: Date): FamilyMember[] {
  const out: FamilyMember[] = [];
  for (const r of (bundle.entry ?? []).map((e) => e.resource)) {
    if (r?.resourceType !== 'Patient' && r?.resourceType !== 'RelatedPerson') continue;
    const p = r as Patient | RelatedPerson;
    const bsn = p.identifier?.find((i) => i.system === BSN)?.value ?? '';
    if (out.some((m) => m.bsn === bsn)) continue;
    const n = p.name?.[0];
    const name = [n?.given?.join(' '), n?.family].filter(Boolean).join(' ');
    out.push(
      r.resourceType === 'Patient'
        ? {
            name,
            bsn,
            kind: 'child',
            birthDate: p.birthDate,
            ...(p.birthDate ? { age: ageOn(p.birthDate, at) } : {}),
          }
        : {
            name,
            bsn,
            kind: 'parent',
            parentalAuthority: r.extension?.find((e) => e.url === GEZAG)?.valueBoolean === true,
          },
    );
  }
  return out;
}

export function sandboxIndexHtml(
  base: string,
  clients: SandboxClientLine[],
  families: { name: string; members: FamilyMember[] }[],
  clock: { now: Date; overridden: boolean },
): string {
  const e = escapeHtml;
  const rows = (cells: string[][]) =>
    cells.map((c) => `<tr>${c.map((x) => `<td>${x}</td>`).join('')}</tr>`).join('');
  const clientRows = rows(
    clients.map((c) => [
      `<code>${e(c.clientId)}</code>`,
      e(c.role),
      e(c.organization),
      `<code>${e(c.privateKey)}</code>`,
    ]),
  );
  const familyTables = families
    .map(
      (f) => `<table><caption>Gezin / family ${e(f.name)}</caption>
<thead><tr><th>naam / name</th><th>BSN</th><th>rol / role</th><th>geboren / born</th><th>leeftijd / age</th></tr></thead>
<tbody>${rows(
        f.members.map((m) => [
          e(m.name),
          `<code>${e(m.bsn)}</code>`,
          m.kind === 'child' ? 'kind / child' : `ouder / parent${m.parentalAuthority ? ' (gezag)' : ''}`,
          m.birthDate ? e(m.birthDate.split('-').reverse().join('-')) : '',
          m.age === undefined ? '' : String(m.age),
        ]),
      )}</tbody></table>`,
    )
    .join('\n');
  const token = `curl -s -XPOST ${base}/sandbox/token -H 'content-type: application/json' -d '{"clientId":"sandbox-cjg"}'`;
  const examples = [
    ['Token (sandbox-snelweg / shortcut)', token],
    [
      'Eerste uitwisseling / first exchange',
      `curl -s -XPOST '${base}/fhir/$exchange' -H "authorization: Bearer $TOKEN" -H 'content-type: application/fhir+json' -d @docs/examples/exchange-noah-to-gp.json`,
    ],
    [
      'Levering volgen / track the Task',
      `curl -s '${base}/fhir/Task?code=exchange' -H "authorization: Bearer $TOKEN"`,
    ],
    [
      'Conformancekit / conformance kit',
      `npm run conformance -- --base-url ${base} --client-id sandbox-cjg --key fixtures/keys/sandbox-cjg.private.jwk.json`,
    ],
    ['Terugzetten / reset', `curl -s -XPOST ${base}/sandbox/reset`],
    [
      'Klok verzetten / set the clock',
      `curl -s -XPOST ${base}/sandbox/clock -H 'content-type: application/json' -d '{"now":"2030-01-01T12:00:00+01:00"}'`,
    ],
    ['Klok terug / clock back', `curl -s -XDELETE ${base}/sandbox/clock`],
  ];
  return htmlPage(
    'Ketenpoort sandbox',
    `<h1>Ketenpoort sandbox</h1>
<p>Een gateway met testgegevens en gesimuleerde instellingen. <span class="muted">A gateway with test data and simulated agencies.</span></p>
<p>Klok / clock: <strong>${e(dutchDate(clock.now))}</strong>${clock.overridden ? ' (verzet / overridden)' : ''}.
FHIR: <code>${e(base)}/fhir</code> · <a href="${e(base)}/fhir/metadata">CapabilityStatement</a> · <a href="${e(base)}/openapi.json">OpenAPI</a> · <a href="${e(base)}/console/">console</a></p>
<h2>Clients</h2>
<table><thead><tr><th>client id</th><th>rol / role</th><th>organisatie / organization</th><th>sleutel / private key</th></tr></thead><tbody>${clientRows}</tbody></table>
<h2>Gezinnen / families</h2>
${familyTables}
<h2>Voorbeelden / example calls</h2>
${examples.map(([title, cmd]) => `<h3>${e(title!)}</h3><pre><code>${e(cmd!)}</code></pre>`).join('\n')}`,
  );
}
