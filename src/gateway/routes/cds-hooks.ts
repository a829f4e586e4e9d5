// A LEAP-compatible CDS Hooks consent service: same request and response shapes as the LEAP consent decision service.
import type { Coding, Organization } from '@medplum/fhirtypes';
import { Ajv } from 'ajv';
import express, { type Router } from 'express';
import { loadCatalogue } from '../../consent/catalogue.js';
import { BSN_SYSTEM, FAMILY_ID_SYSTEM } from '../../consent/constants.js';
import { languageOf } from '../../consent/explain.js';
import type { DecisionRequest } from '../../consent/types.js';
import { isValidBsn } from '../../mappings/bsn.js';
import { searchResources } from '../../store/resources.js';
import type { GatewayContext } from '../context.js';
import { auditDecision, reasonText, roleOf, runDecision, shownReasons, type Subject } from '../decisions.js';
import { baseUrlOf, demand, principalOf, requestIdOf, requireToken } from '../http.js';
import { badRequest, unprocessable } from '../outcomes.js';

const SERVICE_ID = 'patient-consent-consult';
const identifierSchema = {
  type: 'object',
  required: ['value'],
  properties: { system: { type: 'string' }, value: { type: 'string', minLength: 1 } },
};
const requestSchema = {
  type: 'object',
  required: ['hook', 'context'],
  properties: {
    hook: { const: SERVICE_ID },
    hookInstance: { type: 'string' },
    context: {
      type: 'object',
      required: ['patientId', 'scope', 'purposeOfUse', 'actor'],
      properties: {
        patientId: { type: 'array', minItems: 1, items: identifierSchema },
        scope: { enum: ['patient-privacy', 'adr', 'research', 'treatment'] },
        purposeOfUse: { type: 'string', minLength: 1 },
        actor: { type: 'array', minItems: 1, items: identifierSchema },
        category: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code'],
            properties: { system: { type: 'string' }, code: { type: 'string' } },
          },
        },
        class: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code'],
            properties: { system: { type: 'string' }, code: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

interface CdsRequest {
  hook: string;
  hookInstance?: string;
  context: {
    patientId: { system?: string; value: string }[];
    scope: string;
    purposeOfUse: string;
    actor: { system?: string; value: string }[];
    category?: Coding[];
    class?: Coding[];
  };
}

const validateRequest = new Ajv({ allErrors: true }).compile<CdsRequest>(requestSchema);
const DECISION = { permit: 'CONSENT_PERMIT', deny: 'CONSENT_DENY', none: 'NO_CONSENT' } as const;
const OBLIGATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export function cdsHooksRoutes(ctx: GatewayContext): Router {
  const router = express.Router();
  router.use(express.json({ limit: '256kb' }));
  ctx.caps.route({
    method: 'get',
    path: '/cds-services',
    summary: 'CDS Hooks discovery (LEAP consent service)',
    tag: 'Consent decisions',
  });
  ctx.caps.route({
    method: 'post',
    path: `/cds-services/${SERVICE_ID}`,
    summary: 'LEAP-compatible consent decision',
    tag: 'Consent decisions',
  });

  router.get('/', (_req, res) => {
    res.json({
      services: [
        {
          hook: SERVICE_ID,
          id: SERVICE_ID,
          title: 'Ketenpoort consent decision service',
          description:
            'Decides whether a recipient may receive a person\u2019s data for a purpose, under Dutch consent age rules and the legal-exception catalogue; answers as the LEAP consent decision service.',
          prefetch: {},
        },
      ],
    });
  });

  router.post(`/${SERVICE_ID}`, requireToken(ctx), async (req, res) => {
    const principal = principalOf(res);
    demand(principal, 'exchange');
    if (!validateRequest(req.body)) {
      throw unprocessable(
        (validateRequest.errors ?? []).map((e) => ({
          severity: 'error',
          code: 'invalid',
          diagnostics: `${e.instancePath || '/'} ${e.message}`,
          expression: [e.instancePath || '/'],
        })),
      );
    }
    const { context } = req.body as CdsRequest;
    const bsn = context.patientId.find((i) => i.system === BSN_SYSTEM)?.value;
    const family = context.patientId.find((i) => i.system === FAMILY_ID_SYSTEM)?.value;
    if (!bsn && !family) throw badRequest(`context.patientId needs an identifier with system ${BSN_SYSTEM}`);
    if (bsn && !isValidBsn(bsn)) throw badRequest(`"${bsn}" is not a valid BSN`);
    const subject: Subject = bsn
      ? { kind: 'person', value: bsn, identifier: { system: BSN_SYSTEM, value: bsn } }
      : { kind: 'family', value: family!, identifier: { system: FAMILY_ID_SYSTEM, value: family! } };
    let recipient: Organization | undefined;
    for (const id of context.actor) {
      const found = await searchResources<Organization>(ctx.db, {
        type: 'Organization',
        criteria: [{ param: 'identifier', values: [{ system: id.system, value: id.value }] }],
        count: 1,
        offset: 0,
        sort: 'asc',
      });
      recipient = found.resources[0];
      if (recipient) break;
    }
    const categories = new Set<string>((context.category ?? []).map((c) => c.code!));
    const catalogue = loadCatalogue();
    for (const cls of context.class ?? [])
      for (const rule of catalogue.rules.filter((r) => r.resourceType === cls.code))
        rule.categories.forEach((c) => categories.add(c));
    const lang = languageOf(req.get('accept-language'));
    if (!recipient) {
      res.json({
        cards: [
          card(
            'none',
            lang === 'nl'
              ? 'De ontvanger is niet bekend bij de gateway.'
              : 'The recipient is not known to the gateway.',
            baseUrlOf(ctx, req),
            [],
          ),
        ],
      });
      return;
    }
    const request: DecisionRequest = {
      requesterOrg: principal.org,
      requesterRole: principal.role,
      recipientOrg: `Organization/${recipient.id}`,
      recipientRole: roleOf(recipient),
      recipientIdentifiers: recipient.identifier,
      subjectBsn: subject.value,
      subjectKind: subject.kind,
      purpose: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: context.purposeOfUse },
      categories: categories.size ? [...categories] : undefined,
    };
    const run = await runDecision(ctx.db, ctx.config, principal, request, subject);
    await auditDecision(ctx.db, principal, run, {
      subtype: 'consent-decision',
      subject,
      recipientOrg: request.recipientOrg,
      requestId: requestIdOf(res),
      via: 'cds-hooks',
    });
    const full = run.decision.decision === 'permit' || run.fullExplanation;
    const detail = shownReasons(run)
      .map((r) => reasonText(r, lang, full))
      .join(' ');
    const noConsent =
      run.decision.decision === 'deny' &&
      shownReasons(run).every((r) => ['consent-missing', 'subject-unknown', 'no-basis'].includes(r.code));
    const obligations = run.decision.obligations.map((o) => ({
      id: {
        system:
          o.code === 'REVIEW' || o.code === 'NOTIFY-CLIENT'
            ? 'https://ketenpoort.nl/fhir/CodeSystem/obligation'
            : OBLIGATION_SYSTEM,
        code: o.code,
      },
      parameters: {
        codes:
          o.code === 'REDACT'
            ? run.decision.redacted.flatMap(
                (c) =>
                  catalogue.categories.get(c)?.labels ?? [
                    { system: 'https://ketenpoort.nl/fhir/CodeSystem/data-category', code: c },
                  ],
              )
            : [],
      },
    }));
    res.json({
      cards: [
        card(
          noConsent ? 'none' : run.decision.decision,
          detail,
          baseUrlOf(ctx, req),
          obligations,
          run.decision.consents,
        ),
      ],
    });
  });
  return router;
}

function card(
  decision: 'permit' | 'deny' | 'none',
  detail: string,
  base: string,
  obligations: unknown[],
  consents: string[] = [],
) {
  return {
    summary: DECISION[decision],
    detail,
    indicator: 'info',
    source: { label: 'Ketenpoort', url: base },
    extension: { decision: DECISION[decision], obligations, basedOn: consents[0], basedOnAll: consents },
  };
}
