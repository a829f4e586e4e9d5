// The history of a registration: every version, for whoever may read it (anyone else: 404, as for a read).
import type { Resource } from '@medplum/fhirtypes';
import type { Principal } from '../auth/access.js';
import type { Queryable } from '../store/database.js';
import { versionsOf, type ResourceVersion } from '../store/history.js';
import { readIndexed, type ReadRecorder } from './records.js';

/** Every version of a resource of the index, newest first; the read is checked and recorded as a read. */
export async function readHistory<T extends Resource>(
  db: Queryable,
  principal: Principal,
  type: string,
  id: string,
  record: ReadRecorder,
): Promise<ResourceVersion<T>[]> {
  await readIndexed(db, principal, type, id, record);
  return versionsOf<T>(db, type, id);
}
