// $export over HTTP: the audit log as CSV for a privacy officer, its header first; an unknown format is a 400.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.js';
import { fhir, sandboxToken, testSandbox } from '../../../test/helpers.js';

describe('AuditEvent $export', () => {
  let sandbox: RunningSandbox;
  let officer: string;
  beforeAll(async () => {
    sandbox = await testSandbox();
    officer = await sandboxToken(sandbox, 'privacy-officer');
  });
  afterAll(() => sandbox?.close());

  it('exports the log as CSV, one row per event after the header', async () => {
    const res = await fetch(`${sandbox.url}/fhir/AuditEvent/$export?_format=csv`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines[0]).toBe(
      'seq,recorded,subtype,action,outcome,patient_bsn,agent,recipient,purpose,legal_basis,description',
    );
    expect(lines.length).toBeGreaterThan(1);
  });

  it('refuses a format other than ndjson or csv with 400', async () => {
    const res = await fhir<OperationOutcome>(
      sandbox.url,
      officer,
      'GET',
      '/fhir/AuditEvent/$export?_format=xml',
    );
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toBe('_format must be ndjson or csv');
  });
});
