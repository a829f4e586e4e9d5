// GET /fhir/AuditEvent/$verify: walks the audit hash chains and the signed checkpoints and names the first altered,
// removed or inserted event; streamed as NDJSON on request. The verification is itself on record.
import type { Parameters } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { verifyChain } from '../../audit/chain.js';
import { verifyCheckpoint } from '../../audit/checkpoint-jws.js';
import { recordVerification } from '../../audit/log-reads.js';
import { outcome } from '../../fhir/outcomes.js';
import type { HttpContext } from '../context.js';
import { defineOperation } from '../define-operation.js';
import { principalOf, sendFhir } from '../http.js';

const VERIFY_FAILED =
  'De controle van het logboek is afgebroken door een fout; probeer het later opnieuw. / The verification broke off with an error; try again later.';

async function verify(ctx: HttpContext, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  // Asked for NDJSON, the walk is streamed: a progress line now and then, the Parameters as the last line.
  const streamed = /application\/x-ndjson/.test(req.get('accept') ?? '');
  if (streamed) {
    res.status(200).type('application/x-ndjson').set('Cache-Control', 'no-store');
    res.flushHeaders();
  }
  let lastSent = 0;
  const progress = (checked: number, total: number) => {
    if (!streamed || res.destroyed || (checked - lastSent < 500 && checked < total)) return;
    lastSent = checked;
    res.write(`${JSON.stringify({ checked, total })}\n`);
  };
  const result = await verifyChain(ctx.db, {
    verifyCheckpoint: (jws) => verifyCheckpoint(jws, ctx.key.publicKey),
    onProgress: progress,
  }).catch((err: unknown) => {
    if (!streamed) throw err;
    req.log?.error({ err }, 'the audit chain could not be verified');
    res.end(`${JSON.stringify(outcome('exception', VERIFY_FAILED))}\n`);
    return undefined;
  });
  if (!result) return;
  // A broken log may refuse new appends (a forged row in the way); the verdict is reported all the same.
  const recorded = await recordVerification(ctx.db, principal, result, ctx.logger);
  const parameter: NonNullable<Parameters['parameter']> = [
    { name: 'valid', valueBoolean: result.valid },
    { name: 'recorded', valueBoolean: recorded },
    { name: 'count', valueInteger: result.count },
    { name: 'checkpoints', valueInteger: result.checkpoints },
    { name: 'from', valueInteger: result.from },
    { name: 'chains', valueInteger: result.chains },
  ];
  if (result.firstInvalid) {
    parameter.push({
      name: 'firstInvalid',
      part: [
        { name: 'chain', valueInteger: result.firstInvalid.chain },
        { name: 'sequence', valueInteger: result.firstInvalid.seq },
        { name: 'id', valueString: result.firstInvalid.id },
        { name: 'problem', valueString: result.firstInvalid.problem },
      ],
    });
  }
  const answer: Parameters = { resourceType: 'Parameters', parameter };
  if (streamed) res.end(`${JSON.stringify(answer)}\n`);
  else sendFhir(res, 200, answer);
}

export const auditVerifyOperation = defineOperation({
  route: 'GET /fhir/AuditEvent/$verify',
  permission: 'audit:read',
  summary: 'Verify the hash chain of the audit log',
  tag: 'Audit and oversight',
  description:
    'Verifies the audit hash chains and signed checkpoints; names the first altered, removed or inserted event.',
  input: [],
  returns: 'Parameters',
  affectsState: false,
  handler: verify,
});
