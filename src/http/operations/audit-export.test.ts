// $export over HTTP: the audit log as CSV for a privacy officer, its header first; an unknown format is a 400.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { sandboxToken } from '../../../test/helpers.js';
import { operationServer } from '../../../test/operation-server.js';

const HEADER =
  'seq,recorded,subtype,action,outcome,patient_bsn,agent,recipient,purpose,legal_basis,description';

describe('AuditEvent $export', () => {
  const server = operationServer();

  it('exports the log as CSV, one row per event after the header', async () => {
    const officer = await sandboxToken(server.sandbox, 'privacy-officer');
    const res = await fetch(`${server.sandbox.url}/fhir/AuditEvent/$export?_format=csv`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines[0]).toBe(HEADER);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('refuses a format other than ndjson or csv with 400', async () => {
    const path = '/fhir/AuditEvent/$export?_format=xml';
    const res = await server.call<OperationOutcome>('privacy-officer', 'GET', path);
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.diagnostics).toBe(
      '_format moet ndjson of csv zijn / _format must be ndjson or csv',
    );
  });
});
