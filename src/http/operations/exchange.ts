// POST /fhir/$exchange: decide and minimise, then commit the AuditEvent, the delivery Task and the outbox job together.
import { randomUUID } from 'node:crypto';
import type { Bundle, Parameters, Task } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { languageOf, type Language } from '../../consent/explain.js';
import { BSN_SYSTEM, createResource, grantAccess } from '../../store/resources.js';
import type { HttpContext } from '../context.js';
import {
  decisionAudit,
  createNotifyTask,
  createReviewTask,
  decisionParameters,
  denial,
  endpointOf,
  parameters,
  readDecisionRequest,
  runDecision,
} from '../../exchange/decisions.js';
import { explanationParameters } from '../../exchange/consent-explanations.js';
import { demand, principalOf, requestIdOf, sendFhir } from '../http.js';
import { audit } from '../../audit/record.js';
import { badRequest, unprocessable } from '../../fhir/outcomes.js';
import { OperationInput } from '../parameters.js';
import { FORMATS, mapNative } from '../../mappings/formats.js';
import { NativeInputError } from '../../mappings/referral-format.js';
import { validateFhir } from '../../mappings/validate.js';
import { TASK_CODE_SYSTEM } from '../../exchange/tasks.js';
import {
  earlierAnswer,
  idempotencyClaim,
  isUniqueViolation,
  recordAnswer,
} from '../../exchange/idempotency.js';

/** A native payload (nativePayload + format), mapped to its Bundle and validated like any payload. */
function nativePayloadOf(input: OperationInput, text: string, lang: Language): Bundle {
  const name = input.one('format')?.valueCode;
  const format = name ? FORMATS[name] : undefined;
  if (!format)
    throw badRequest(
      `Parameter "format" must name a native format (${Object.keys(FORMATS).join(', ')}); got ${name ?? 'none'}`,
      'Parameters.parameter[format]',
    );
  const at = 'Parameters.parameter[nativePayload]';
  let bundles: Bundle[];
  try {
    let body: unknown = text;
    if (text.trimStart().startsWith('{')) {
      try {
        body = JSON.parse(text);
      } catch {
        throw badRequest(`The native payload is not valid JSON`, at);
      }
    }
    bundles = mapNative(format, body, at, lang);
  } catch (err) {
    if (err instanceof NativeInputError)
      throw unprocessable(
        err.issues.map((i) => ({ ...i, expression: (i.expression ?? []).map((e) => `${at}.${e}`) })),
      );
    throw err;
  }
  if (bundles.length !== 1)
    throw unprocessable([
      {
        severity: 'error',
        code: 'invalid',
        diagnostics: `One record per exchange; the payload holds ${bundles.length}`,
        expression: [at],
      },
    ]);
  return validateFhir<Bundle>(bundles[0], ['Bundle']);
}

/** The payload: a collection Bundle, given as resource, or a native record that is mapped first. */
function payloadOf(input: OperationInput, lang: Language): Bundle {
  const native = input.one('nativePayload');
  if (native) {
    if (typeof native.valueString !== 'string')
      throw badRequest(
        'Parameter "nativePayload" takes a valueString',
        'Parameters.parameter[nativePayload]',
      );
    if (input.one('payload')) throw badRequest('Send either "payload" or "nativePayload", not both');
    return nativePayloadOf(input, native.valueString, lang);
  }
  const resource = input.one('payload')?.resource;
  if (!resource)
    throw badRequest('Parameter "payload" (a Bundle resource) is required', 'Parameters.parameter[payload]');
  // Already validated as part of the Parameters (structure and the gateway's rules); only its type is checked here.
  if (resource.resourceType !== 'Bundle')
    throw badRequest('Parameter "payload" must be a Bundle', 'Parameters.parameter[payload].resource');
  const bundle = resource as Bundle;
  if (bundle.type !== 'collection')
    throw badRequest(
      'The payload Bundle must be of type collection',
      'Parameters.parameter[payload].resource.type',
    );
  return bundle;
}

/** The answer as a replay gives it: `delivered` becomes a reference by identifier to the Bundle that went out. */
function withoutDeliveredContent(answer: Parameters, delivered: Bundle): Parameters {
  return {
    ...answer,
    parameter: (answer.parameter ?? []).map((p) =>
      p.name === 'delivered'
        ? { name: 'delivered', valueReference: { type: 'Bundle', identifier: delivered.identifier } }
        : p,
    ),
  };
}

export async function exchange(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  demand(principal, 'exchange');
  const claim = idempotencyClaim(principal.clientId, req.get('idempotency-key'), req.body);
  const window = ctx.config.idempotencyWindowHours;
  const replay = async () => {
    const earlier = await earlierAnswer(ctx.db, claim!, window);
    if (!earlier) throw new Error('idempotent answer vanished');
    sendFhir(res, earlier.status, earlier.body, { 'Idempotent-Replayed': 'true' });
  };
  if (claim && (await earlierAnswer(ctx.db, claim, window))) return replay();

  const input = new OperationInput(req.body);
  const { subject, recipient, request, practitioner } = await readDecisionRequest(ctx.db, principal, input);
  request.payload = payloadOf(input, languageOf(req.get('accept-language')));
  const endpoint = await endpointOf(ctx.db, recipient);
  const lang = languageOf(req.get('accept-language'));

  const run = await runDecision(ctx.db, ctx.config, principal, request, subject);
  const { decision } = run;
  const auditBase = decisionAudit(run, {
    subtype: 'exchange',
    subject,
    recipientOrg: recipient.reference,
    practitioner,
    requestId: requestIdOf(res),
  });

  try {
    if (decision.decision === 'deny') {
      const refusal = denial(run, lang);
      await ctx.db.transaction(async (tx) => {
        await audit(tx, principal, auditBase);
        if (claim) await recordAnswer(tx, claim, { status: 403, body: refusal.outcome }, window);
      });
      throw refusal;
    }

    const jobId = randomUUID();
    const delivered: Bundle = {
      ...decision.delivered!,
      identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${jobId}` },
    };
    const now = new Date();
    const answer = await ctx.db.transaction(async (tx) => {
      const task = await createResource<Task>(
        tx,
        {
          resourceType: 'Task',
          status: 'accepted',
          intent: 'order',
          code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'exchange', display: 'Exchange of records' }] },
          identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${jobId}` }],
          for: {
            // The sender's own registration: another organisation's registration id is not the sender's to see.
            reference: run.ownSubjectRef ?? run.subjectRef,
            identifier:
              subject.kind === 'person' ? { system: BSN_SYSTEM, value: subject.value } : subject.identifier,
          },
          requester: { reference: principal.org },
          owner: { reference: recipient.reference },
          authoredOn: now.toISOString(),
          lastModified: now.toISOString(),
          reasonCode: { coding: [request.purpose] },
          input: [{ type: { text: 'delivered bundle' }, valueIdentifier: delivered.identifier! }],
        },
        principal.org,
      );
      await grantAccess(tx, 'Task', task.id!, recipient.reference);
      const auditId = await audit(tx, principal, {
        ...auditBase,
        entities: [{ reference: `Task/${task.id}` }],
      });
      const review = decision.obligations.some((o) => o.code === 'REVIEW')
        ? await createReviewTask(tx, principal, run, auditId, recipient.reference)
        : undefined;
      if (decision.obligations.some((o) => o.code === 'NOTIFY-CLIENT'))
        await createNotifyTask(tx, principal, run, auditId);
      const { payload: _payload, ...decidedRequest } = request;
      await tx.query(
        `INSERT INTO delivery_jobs (id, task_id, sender_org, recipient_org, endpoint_url, bundle, status, next_attempt_at, deadline, consents, request)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'pending', now(), $7, $8::text[], $9::jsonb)`,
        [
          jobId,
          task.id,
          principal.org,
          recipient.reference,
          endpoint,
          JSON.stringify(delivered),
          new Date(now.getTime() + ctx.config.deliveryDeadlineMs),
          decision.consents,
          JSON.stringify({ request: decidedRequest, subject, principal }),
        ],
      );
      const body = parameters([
        ...decisionParameters(decision, lang, true),
        ...explanationParameters(run.consentExplanations ?? []),
        { name: 'exchange', valueReference: { reference: `Task/${task.id}` } },
        { name: 'auditEvent', valueReference: { reference: `AuditEvent/${auditId}` } },
        ...(review ? [{ name: 'review', valueReference: { reference: `Task/${review.id}` } }] : []),
        { name: 'delivered', resource: delivered },
      ]);
      // A replay needs the decision, the Task and the AuditEvent; the delivered Bundle is named by its identifier only,
      // so that no care data stay in idempotency_keys for the window.
      if (claim)
        await recordAnswer(
          tx,
          claim,
          { status: 202, body: withoutDeliveredContent(body, delivered) },
          window,
        );
      return { body, taskId: task.id! };
    });
    ctx.delivery.kick();
    sendFhir(res, 202, answer.body, { 'Content-Location': `/fhir/Task/${answer.taskId}` });
  } catch (err) {
    // A concurrent request with the same Idempotency-Key committed first: answer as it did.
    if (claim && isUniqueViolation(err)) return replay();
    throw err;
  }
}

import { defineOperation } from '../define-operation.js';
import { decisionInputs, param } from '../operation-spec.js';

export const exchangeOperation = defineOperation({
  route: 'POST /fhir/$exchange',
  permission: 'exchange',
  summary: 'Push records to another agency (consent-checked)',
  tag: 'Exchanges',
  description:
    'Pushes records to another agency after a consent decision; permitted → 202 with the decision and the Task tracking delivery, denied → 403.',
  input: [
    ...decisionInputs('recipient'),
    param('payload', 'Bundle', 0, '1', 'The records (a collection Bundle); or nativePayload with format'),
    param(
      'nativePayload',
      'string',
      0,
      '1',
      'A native record to map first (GET /mappings lists the formats)',
    ),
    param('format', 'code', 0, '1', 'The format of nativePayload'),
  ],
  returns: 'Parameters',
  affectsState: true,
  handler: exchange,
});
