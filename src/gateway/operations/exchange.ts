// POST /fhir/$exchange: decide, then commit the AuditEvent, the delivery Task and the outbox job together.
import { randomUUID } from 'node:crypto';
import type { Bundle, Task } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { validateFhir } from '../../mappings/validate.js';
import { BSN_SYSTEM, createResource } from '../../store/resources.js';
import type { GatewayContext } from '../context.js';
import {
  denial,
  decisionParameters,
  endpointOf,
  parameters,
  resolveOrganization,
  runDecision,
  subjectBsn,
} from '../decisions.js';
import { audit, demand, principalOf, sendFhir } from '../http.js';
import { badRequest, unprocessable } from '../outcomes.js';
import { OperationInput } from '../parameters.js';
import { TASK_CODE_SYSTEM } from '../tasks.js';

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/** The payload: a collection Bundle, given as resource (native formats are mapped first). */
function payloadOf(input: OperationInput): Bundle {
  const native = input.one('nativePayload');
  if (native) {
    throw unprocessable([
      {
        severity: 'error',
        code: 'not-supported',
        diagnostics: `Native payload format "${input.one('format')?.valueCode ?? '(none)'}" is not supported; send a FHIR Bundle as "payload"`,
        expression: ['Parameters.parameter[format]'],
      },
    ]);
  }
  const resource = input.one('payload')?.resource;
  if (!resource)
    throw badRequest('Parameter "payload" (a Bundle resource) is required', 'Parameters.parameter[payload]');
  const bundle = validateFhir<Bundle>(resource, ['Bundle']);
  if (bundle.type !== 'collection')
    throw badRequest(
      'The payload Bundle must be of type collection',
      'Parameters.parameter[payload].resource.type',
    );
  return bundle;
}

export async function exchange(ctx: GatewayContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  demand(principal, 'exchange');
  const input = new OperationInput(req.body);
  const bsn = subjectBsn(input);
  const purpose = input.coding('purpose', true);
  const payload = payloadOf(input);
  const practitioner = input.identifier('practitioner');
  const recipient = await resolveOrganization(ctx.db, input, 'recipient');
  const endpoint = await endpointOf(ctx.db, recipient);
  const legalBasis = input.coding('legalBasis');
  const justification = input.string('justification');
  if (legalBasis && !justification)
    throw badRequest('Parameter "justification" is required with "legalBasis"');

  const run = await runDecision(ctx.db, principal, {
    requesterOrg: principal.org,
    requesterRole: principal.role,
    recipientOrg: recipient.reference,
    recipientRole: recipient.role,
    subjectBsn: bsn,
    purpose,
    legalBasis,
    justification,
    criteria: input.criteria(),
  });
  const { decision } = run;
  const auditBase = {
    recipientOrg: recipient.reference,
    patient: { bsn, reference: run.subjectRef },
    purpose,
    practitioner,
    legalBasis,
    justification,
    details: {
      reason: decision.reasons.map((r) => `${r.code}: ${r.text}`),
      requestId: String(res.getHeader('X-Request-Id') ?? ''),
    },
  };

  if (decision.decision === 'deny') {
    await ctx.db.transaction((tx) =>
      audit(tx, principal, {
        ...auditBase,
        subtype: 'exchange',
        outcome: 'denied',
        description: decision.reasons.map((r) => r.text).join(' '),
      }),
    );
    throw denial(run);
  }

  const jobId = randomUUID();
  const delivered: Bundle = {
    ...payload,
    id: undefined,
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${jobId}` },
    meta: {
      ...payload.meta,
      security: [{ system: CONFIDENTIALITY, code: 'R', display: 'restricted' }, { ...purpose }],
    },
  };
  const now = new Date();
  const { task, auditId } = await ctx.db.transaction(async (tx) => {
    const task = await createResource<Task>(
      tx,
      {
        resourceType: 'Task',
        status: 'accepted',
        intent: 'order',
        code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'exchange', display: 'Exchange of records' }] },
        identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${jobId}` }],
        for: { reference: run.subjectRef, identifier: { system: BSN_SYSTEM, value: bsn } },
        requester: { reference: principal.org },
        owner: { reference: recipient.reference },
        authoredOn: now.toISOString(),
        lastModified: now.toISOString(),
        reasonCode: { coding: [purpose] },
        input: [{ type: { text: 'delivered bundle' }, valueIdentifier: delivered.identifier! }],
      },
      principal.org,
    );
    await tx.query('INSERT INTO resource_orgs (type, id, org) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      'Task',
      task.id,
      recipient.reference,
    ]);
    const auditId = await audit(tx, principal, {
      ...auditBase,
      subtype: 'exchange',
      outcome: 'success',
      description: decision.reasons.map((r) => r.text).join(' '),
      consents: decision.consents,
      entities: [{ reference: `Task/${task.id}` }],
    });
    await tx.query(
      `INSERT INTO delivery_jobs (id, task_id, sender_org, recipient_org, endpoint_url, bundle, status, next_attempt_at, deadline)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'pending', now(), $7)`,
      [
        jobId,
        task.id,
        principal.org,
        recipient.reference,
        endpoint,
        JSON.stringify(delivered),
        new Date(now.getTime() + ctx.config.deliveryDeadlineMs),
      ],
    );
    return { task, auditId };
  });
  ctx.delivery.kick();

  sendFhir(
    res,
    202,
    parameters([
      ...decisionParameters(decision, true),
      { name: 'exchange', valueReference: { reference: `Task/${task.id}` } },
      { name: 'auditEvent', valueReference: { reference: `AuditEvent/${auditId}` } },
      { name: 'delivered', resource: delivered },
    ]),
    { 'Content-Location': `/fhir/Task/${task.id}` },
  );
}
