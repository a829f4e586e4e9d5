// The rest of the LEAP drop-in: CDS clients that sign their own JWT (CDS Hooks "Trusting CDS Clients"), the
// bundle-security-label hook and Bundle/$security-label over the gateway's classification, and the XACML JSON
// endpoint — on both engines, against the running gateway.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import type { Bundle, Parameters, Resource } from '@medplum/fhirtypes';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { BSN_SYSTEM } from '../src/store/resources.js';
import {
  clientAssertion,
  clientKey,
  ENGINES,
  fhir,
  freshDatabase,
  requestToken,
  sandboxToken,
  testSandbox,
} from './helpers.js';
import {
  accessAndCorrect,
  ACT_CODE,
  CONFIDENTIALITY,
  consentOf,
  GP,
  inForce,
  leapSample,
  newPerson,
  postJson,
  PRIVACY,
  register,
  toGp,
  YOUTH_CARE,
  type Person,
} from './leap/world.js';

const CONSULT = '/cds-services/patient-consent-consult';

/** A CDS client's own JWT (CDS Hooks 2.0): iss the client, aud the service URL, a fresh jti, a short exp. */
async function cdsJwt(
  clientId: string,
  audience: string,
  opts: { jti?: string; expiresIn?: number; iss?: string } = {},
): Promise<string> {
  const { jwk, key } = await clientKey(clientId);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' })
    .setIssuer(opts.iss ?? clientId)
    .setAudience(audience)
    .setJti(opts.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresIn ?? 120))
    .sign(key);
}

describe.each(ENGINES)('LEAP services on %s', (engine) => {
  let sandbox: RunningSandbox;
  let drop: () => Promise<void>;
  let cjg: string;
  let person: Person;

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    sandbox = await testSandbox({}, fresh.db);
    cjg = await sandboxToken(sandbox, 'cjg');
    person = await newPerson(sandbox.url, cjg);
    await register(
      sandbox.url,
      cjg,
      consentOf(person, {
        type: 'permit',
        period: inForce,
        provision: [
          { type: 'deny', actor: [toGp], action: accessAndCorrect },
          { type: 'deny', securityLabel: [{ system: ACT_CODE, code: 'PSY' }] },
        ],
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await sandbox.close();
    await drop();
  });

  const post = (path: string, body: unknown, bearer?: string) =>
    postJson<Record<string, unknown>>(sandbox.url, path, body, bearer);
  const decisionOf = (body: Record<string, unknown>) =>
    (body as { cards: { extension: { decision: string } }[] }).cards[0]!.extension.decision;

  describe('a CDS client that signs its own JWT', () => {
    it('is answered without a token call when iss, aud, jti and exp are right', async () => {
      const jwt = await cdsJwt('sandbox-cjg', `${sandbox.url}${CONSULT}`);
      const res = await post(CONSULT, leapSample(person), jwt);
      expect(res.status).toBe(200);
      expect(decisionOf(res.body)).toBe('CONSENT_PERMIT');
    });

    it('is refused (401) with another audience, a used jti, a long life, an unknown issuer or no token at all', async () => {
      const url = `${sandbox.url}${CONSULT}`;
      const jti = randomUUID();
      expect(
        (await post(CONSULT, leapSample(person), await cdsJwt('sandbox-cjg', url, { jti }))).status,
      ).toBe(200);
      const refused = [
        await cdsJwt('sandbox-cjg', url, { jti }),
        await cdsJwt('sandbox-cjg', `${sandbox.url}/cds-services/bundle-security-label`),
        await cdsJwt('sandbox-cjg', `${sandbox.url}/auth/token`),
        await cdsJwt('sandbox-cjg', url, { expiresIn: 3600 }),
        await cdsJwt('sandbox-cjg', url, { iss: 'sandbox-unknown' }),
        undefined,
      ];
      for (const jwt of refused) {
        const res = await post(CONSULT, leapSample(person), jwt);
        expect(res.status).toBe(401);
        expect(res.body.resourceType).toBe('OperationOutcome');
      }
    });

    it('shares its jti register with the token endpoint: a jti used for the hook buys no token', async () => {
      const jti = randomUUID();
      expect(
        (
          await post(
            CONSULT,
            leapSample(person),
            await cdsJwt('sandbox-cjg', `${sandbox.url}${CONSULT}`, { jti }),
          )
        ).status,
      ).toBe(200);
      const token = await requestToken(
        sandbox.url,
        await clientAssertion(`${sandbox.url}/auth/token`, 'sandbox-cjg', { jti }),
      );
      expect(token.status).toBe(401);
    });

    it("is held to its role: research's own JWT is refused the consult (403)", async () => {
      const jwt = await cdsJwt('sandbox-research', `${sandbox.url}${CONSULT}`);
      expect((await post(CONSULT, leapSample(person), jwt)).status).toBe(403);
    });
  });

  describe('security labelling', () => {
    const bundle = (p: Person): Bundle => ({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'urn:uuid:1abe0000-0000-4000-8000-000000000001',
          resource: {
            resourceType: 'CarePlan',
            status: 'active',
            intent: 'plan',
            meta: { security: [{ system: ACT_CODE, code: 'PSY' }] },
            subject: { identifier: { system: BSN_SYSTEM, value: p.bsn } },
          },
        },
        {
          fullUrl: 'urn:uuid:1abe0000-0000-4000-8000-000000000002',
          resource: {
            resourceType: 'Patient',
            identifier: [{ system: BSN_SYSTEM, value: p.bsn }],
          },
        },
      ],
    });

    it('labels each entry in the bundle-security-label hook: an update action per resource that got labels', async () => {
      const res = await post(
        '/cds-services/bundle-security-label',
        { hook: 'bundle-security-label', hookInstance: 'l-1', context: { bundle: bundle(person) } },
        cjg,
      );
      expect(res.status).toBe(200);
      const { cards, systemActions } = res.body as {
        cards: unknown[];
        systemActions: { type: string; resource: Resource }[];
      };
      expect(cards).toEqual([]);
      expect(systemActions).toHaveLength(2);
      expect(systemActions.every((a) => a.type === 'update')).toBe(true);
      const [plan, patient] = systemActions.map((a) => a.resource.meta?.security ?? []);
      expect(plan).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ system: ACT_CODE, code: 'PSY' }),
          expect.objectContaining({ system: CONFIDENTIALITY, code: 'R' }),
        ]),
      );
      expect(patient).toEqual(
        expect.arrayContaining([expect.objectContaining({ system: CONFIDENTIALITY, code: 'N' })]),
      );
    });

    it('refuses a labelling request without a Bundle of resources (400), as LEAP does', async () => {
      const res = await post(
        '/cds-services/bundle-security-label',
        {
          hook: 'bundle-security-label',
          hookInstance: 'l-2',
          context: { bundle: { resourceType: 'Bundle', entry: [{}] } },
        },
        cjg,
      );
      expect(res.status).toBe(400);
    });

    it('answers Bundle/$security-label with the labelled Bundle and, per entry, its categories, labels and sensitivity', async () => {
      const res = await fhir<Parameters>(
        sandbox.url,
        cjg,
        'POST',
        '/fhir/Bundle/$security-label',
        bundle(person),
      );
      expect(res.status).toBe(200);
      const entries = (res.body.parameter ?? []).filter((p) => p.name === 'entry');
      expect(entries).toHaveLength(2);
      const sensitive = entries.map((e) => e.part!.find((p) => p.name === 'sensitive')!.valueBoolean);
      expect(sensitive).toEqual([true, false]);
      const labelled = res.body.parameter!.find((p) => p.name === 'bundle')!.resource as Bundle;
      expect(labelled.entry![0]!.resource!.meta!.security).toEqual(
        expect.arrayContaining([expect.objectContaining({ system: CONFIDENTIALITY, code: 'R' })]),
      );
      expect(
        (await fhir(sandbox.url, cjg, 'POST', '/fhir/Bundle/$security-label', { resourceType: 'Patient' }))
          .status,
      ).toBe(400);
    });

    it('labels exactly as the consent engine decides: the PSY entry is what a PSY exception redacts from the hook', async () => {
      const card = await post(
        CONSULT,
        { ...leapSample(person), context: { ...leapSample(person).context, content: bundle(person) } },
        cjg,
      );
      const content = (card.body as { cards: { extension: { content: Bundle } }[] }).cards[0]!.extension
        .content;
      expect(content.entry!.map((e) => e.fullUrl)).toEqual(['urn:uuid:1abe0000-0000-4000-8000-000000000002']);
    });
  });

  describe('the XACML JSON endpoint', () => {
    const xacml = (actor: { system: string; value: string }, extra: Record<string, unknown>[] = []) => ({
      Request: {
        AccessSubject: [{ Attribute: [{ AttributeId: 'actor', Value: [actor] }] }],
        Action: [
          {
            Attribute: [
              { AttributeId: 'category', Value: [PRIVACY] },
              { AttributeId: 'purposeOfUse', Value: 'TREAT' },
              ...extra,
            ],
          },
        ],
        Resource: [
          { Attribute: [{ AttributeId: 'patientId', Value: [{ system: BSN_SYSTEM, value: person.bsn }] }] },
        ],
      },
    });

    it('answers Permit with the REDACT obligation, Deny for the refused organisation, NotApplicable without consent', async () => {
      const permit = await post('/xacml', xacml(YOUTH_CARE), cjg);
      expect(permit.status).toBe(200);
      expect(permit.body).toEqual({
        Response: [
          {
            Decision: 'Permit',
            Obligations: [
              {
                Id: { system: ACT_CODE, code: 'REDACT' },
                AttributeAssignment: [{ AttributeId: 'codes', Value: [{ system: ACT_CODE, code: 'PSY' }] }],
              },
            ],
          },
        ],
      });
      expect(
        ((await post('/xacml', xacml(GP), cjg)).body as { Response: { Decision: string }[] }).Response[0]!
          .Decision,
      ).toBe('Deny');
      const stranger = await newPerson(sandbox.url, cjg);
      const none = xacml(YOUTH_CARE);
      none.Request.Resource[0]!.Attribute[0]!.Value = [{ system: BSN_SYSTEM, value: stranger.bsn }];
      expect(
        ((await post('/xacml', none, cjg)).body as { Response: { Decision: string }[] }).Response[0]!
          .Decision,
      ).toBe('NotApplicable');
    });

    it("answers the XACML sample of LEAP's README (identifiers replaced): purposes as a list, a class asked for", async () => {
      const body = xacml(GP);
      body.Request.Action[0]!.Attribute[1] = { AttributeId: 'purposeOfUse', Value: ['TREAT'] };
      (body.Request.Resource[0]!.Attribute as unknown[]).push({
        AttributeId: 'class',
        Value: [{ system: 'http://hl7.org/fhir/resource-types', value: 'MedicationStatement' }],
      });
      const res = await post('/xacml', body, cjg);
      expect(res.status).toBe(200);
      expect((res.body as { Response: { Decision: string }[] }).Response[0]!.Decision).toBe('Deny');
    });

    it("refuses LEAP's bad XACML requests with 400: an empty body, empty lists, a missing action", async () => {
      const bodies = [
        {},
        { Request: { AccessSubject: [], Action: [], Resource: [] } },
        {
          Request: {
            AccessSubject: xacml(GP).Request.AccessSubject,
            Action: [],
            Resource: xacml(GP).Request.Resource,
          },
        },
      ];
      for (const body of bodies) {
        const res = await post('/xacml', body, cjg);
        expect(res.status).toBe(400);
        expect(res.body.resourceType).toBe('OperationOutcome');
      }
      const noAction = await post(
        '/xacml',
        { Request: { AccessSubject: xacml(GP).Request.AccessSubject, Resource: xacml(GP).Request.Resource } },
        cjg,
      );
      expect(JSON.stringify(noAction.body)).toMatch('Action');
    });
  });
});
