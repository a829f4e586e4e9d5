// The person index's questions across the resources tables that are not a search: which organisations registered a
// person's consents, which patients have a full birth date, which disputes are still open.
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from './database.js';

/** The organisations that registered any of these Consents (by id), in order. */
export async function consentRegistrars(db: Queryable, consentIds: string[]): Promise<string[]> {
  const rows = await db.query<{ org: string }>(
    `SELECT DISTINCT org FROM resource_orgs WHERE type = 'Consent' AND id = ANY($1::text[]) ORDER BY org`,
    [consentIds],
  );
  return rows.map((r) => r.org);
}

/** The organisations, other than `except`, that registered a Consent about the patient (`Patient/<id>`). */
export async function consentHoldersOf(db: Queryable, patientRef: string, except: string): Promise<string[]> {
  const rows = await db.query<{ org: string }>(
    `SELECT DISTINCT o.org FROM resources c JOIN resource_orgs o ON o.type = c.type AND o.id = c.id
       WHERE c.type = 'Consent' AND c.content -> 'patient' ->> 'reference' = $1 AND o.org <> $2`,
    [patientRef, except],
  );
  return rows.map((r) => r.org);
}

/** Every Patient whose birth date is a full date (YYYY-MM-DD). */
export async function patientsWithBirthDate(db: Queryable): Promise<Patient[]> {
  const rows = await db.query<{ content: Patient }>(
    `SELECT content FROM resources WHERE type = 'Patient' AND length(content ->> 'birthDate') = 10`,
  );
  return rows.map((r) => r.content);
}

/**
 * The facts (birthDate, parentalAuthority, family) of the registration-conflict Tasks still open about any of these
 * persons or families (BSNs, family identifiers).
 */
export async function openDisputes(db: Queryable, about: string[]): Promise<string[]> {
  const rows = await db.query<{ fact: string }>(
    `SELECT DISTINCT split_part(unique_key, '|', 2) AS fact FROM resources
     WHERE type = 'Task' AND unique_key LIKE 'registration-conflict|%'
       AND split_part(unique_key, '|', 3) = ANY($1::text[])
       AND content ->> 'status' IN ('requested', 'in-progress')`,
    [about],
  );
  return rows.map((r) => r.fact);
}
