// The versions a resource went through, from the resource history.
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from './database.js';

export interface ResourceVersion<T extends Resource = Resource> {
  versionId: string;
  validFrom: Date;
  content: T;
}

/** Every version of one resource, newest first. */
export async function versionsOf<T extends Resource>(
  db: Queryable,
  type: string,
  id: string,
): Promise<ResourceVersion<T>[]> {
  const rows = await db.query<{ version_id: number | string; valid_from: Date | string; content: T }>(
    `SELECT version_id, valid_from, content FROM resource_history
     WHERE type = $1 AND id = $2 ORDER BY version_id DESC`,
    [type, id],
  );
  return rows.map((r) => ({
    versionId: String(r.version_id),
    validFrom: new Date(r.valid_from),
    content: r.content,
  }));
}
